"""The results folder of a sweep (README "Reproducibility").

While a sweep runs, each finished run is written as its own part files in ``parts/``
(``<run_id>.timeseries.arrow`` and ``<run_id>.panel.arrow``, Arrow IPC files the worker has
already serialised, first; then ``<run_id>.run.json``, the run's row, whose presence marks the
run as finished), each written to a temporary name and renamed, so a killed sweep loses only the
runs in flight.
:meth:`Store.consolidate` then gathers the parts, in the experiment's run order, into
``runs.parquet``, ``timeseries.parquet`` and ``panel.parquet``; once every run has succeeded
the parts are removed. ``manifest.json`` is rewritten (atomically) as runs finish.

Nothing on disk is trusted on ``--resume``: each ``.run.json`` records the size and SHA-256 of
its run's tables (key ``_tables``), and a run whose row does not parse or whose tables are
missing, truncated or altered counts as not run, so it is run again. A finished sweep's
``runs.parquet`` and tables that cannot be read mean every run is run again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.model.params import ParamError
from sim.sweeps.checks import check_writable_dir

MANIFEST = "manifest.json"
PARTS = "parts"
TABLES = {"timeseries": "timeseries.parquet", "panel": "panel.parquet"}
RUNS = "runs.parquet"
LOCK = ".lock"
TRASH = ".parts-removed"


@dataclass
class RunOutput:
    """What a worker hands back: the run's row, and its tables as Arrow IPC bytes
    (``timeseries``, ``panel``), serialised in the worker so the parent only writes them."""

    run_id: str
    row: dict[str, Any]
    tables: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.row.get("status") == "ok"

    def frame(self, kind: str) -> pd.DataFrame | None:
        data = self.tables.get(kind)
        return None if data is None else pa.ipc.open_file(pa.py_buffer(data)).read_pandas()


def to_arrow(frame: pd.DataFrame) -> bytes:
    """A data frame as the bytes of an Arrow IPC file."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


class Store:
    """A sweep's folder: part files, consolidated tables, the manifest and a lock."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.parts = self.out / PARTS
        self._lock_fd: int | None = None

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def check_new(cls, out: str | Path) -> None:
        """Refuse a folder that already holds anything, and one that cannot be created."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ParamError(f"--out {out} is a file, not a folder")
        if out.is_dir() and any(out.iterdir()):
            raise ParamError(
                f"--out {out} already exists and is not empty: choose a new folder, "
                "or continue the sweep in it with --resume"
            )
        check_writable_dir(out)

    @classmethod
    def check_resumable(cls, out: str | Path, experiment_hash: str, name: str) -> dict[str, Any]:
        """The folder's manifest, if it was made by this same experiment definition."""
        out = Path(out)
        path = out / MANIFEST
        if not path.is_file():
            raise ParamError(f"--resume: {out} holds no sweep (no {MANIFEST}); leave out --resume")
        try:
            manifest = json.loads(path.read_text())
            made_by = manifest["experiment"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ParamError(f"--resume: {path} cannot be read: {e}") from None
        check_writable_dir(out)
        if made_by.get("hash") != experiment_hash:
            how = " ".join(f"--set {s}" for s in made_by.get("set", []))
            if made_by.get("replications") is not None:
                how += f" --replications {made_by['replications']}"
            raise ParamError(
                f"--resume: {out} was made by a different experiment definition "
                f"({made_by.get('name')} from {made_by.get('file')}{' with ' + how if how else ''}, "
                f"hash {made_by.get('hash')}; this is {name}, hash {experiment_hash}): resume "
                "with the same file, --set and --replications, or choose a new --out"
            )
        return manifest

    def open(self) -> None:
        """Create the folder and take its lock: one sweep writes into a folder at a time."""
        self.parts.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ParamError(f"another sweep is writing into {self.out}; wait for it") from None
        self._lock_fd = fd
        for stale in [*self.parts.glob(".*.tmp-*"), *self.out.glob(".*.tmp-*")]:
            stale.unlink(missing_ok=True)  # left by a sweep that was killed while writing
        shutil.rmtree(self.out / TRASH, ignore_errors=True)

    def close(self) -> None:
        if self._lock_fd is not None:
            (self.out / LOCK).unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- runs as they finish --------------------------------------------------------------------
    def finished(self) -> dict[str, dict[str, Any]]:
        """Rows of the runs already recorded (succeeded or failed) whose parts verify, by run
        id; damaged parts are listed in :attr:`damaged` and left out, so they run again."""
        rows: dict[str, dict[str, Any]] = {}
        self.damaged: list[str] = []
        if self.parts.is_dir():
            for path in sorted(self.parts.glob("*.run.json")):
                row = self._verified(path)
                if row is None:
                    self.damaged.append(path.name)
                else:
                    rows[row["run_id"]] = row
        elif (self.out / RUNS).is_file():  # a finished sweep whose parts were removed
            try:
                for name in [RUNS, *TABLES.values()]:
                    if (self.out / name).exists():
                        pq.ParquetFile(self.out / name).close()
                records = pd.read_parquet(self.out / RUNS).to_dict("records")
                if any(not isinstance(r.get("run_id"), str) for r in records):
                    raise ValueError("rows without a run_id")
            except (OSError, ValueError, pa.ArrowException) as e:
                self.damaged.append(f"{RUNS} ({e})")
                return {}
            for row in records:
                rows[row["run_id"]] = row
        return rows

    def _verified(self, path: Path) -> dict[str, Any] | None:
        """A part's row if it and the tables it records are whole, else None."""
        run_id = path.name.removesuffix(".run.json")
        try:
            row = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(row, dict) or row.get("run_id") != run_id:
            return None
        tables = row.pop("_tables", None)
        if not isinstance(tables, dict):
            return None
        for kind, want in tables.items():
            try:
                data = (self.parts / f"{run_id}.{kind}.arrow").read_bytes()
            except OSError:
                return None
            if not isinstance(want, dict) or want != _fingerprint(data):
                return None
        return row

    def drop_damaged(self) -> None:
        """Remove the damaged parts :meth:`finished` found, so their runs start afresh."""
        for name in self.damaged:
            if name.endswith(".run.json"):
                run_id = name.removesuffix(".run.json")
                for p in self.parts.glob(f"{run_id}.*"):
                    p.unlink(missing_ok=True)

    def write(self, output: RunOutput) -> None:
        """Store one run: its tables first, its row last (the row marks it as finished)."""
        for kind in TABLES:
            path = self.parts / f"{output.run_id}.{kind}.arrow"
            if kind in output.tables:
                write_bytes(path, output.tables[kind])
            else:
                path.unlink(missing_ok=True)  # a failed rerun leaves no stale table behind
        tables = {kind: _fingerprint(data) for kind, data in output.tables.items()}
        text = json.dumps({**output.row, "_tables": tables}, default=_plain)
        write_bytes(self.parts / f"{output.run_id}.run.json", text.encode())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.out / MANIFEST, manifest)

    # -- consolidation --------------------------------------------------------------------------
    def consolidate(self, run_ids: list[str]) -> list[str]:
        """Gather the parts of ``run_ids`` (in that order) into the folder's tables."""
        rows = self.finished()
        records = [rows[r] for r in run_ids if r in rows]
        written = []
        if records:
            columns = list(dict.fromkeys(k for r in sorted(records, key=_failed_last) for k in r))
            frame = pd.DataFrame.from_records(records, columns=columns)
            write_parquet(pa.Table.from_pandas(frame, preserve_index=False), self.out / RUNS)
            written.append(RUNS)
        for kind, name in TABLES.items():
            parts = [p for r in run_ids if (p := self.parts / f"{r}.{kind}.arrow").is_file()]
            if parts:
                concat_parquet(parts, self.out / name)
                written.append(name)
        return written

    def remove_parts(self) -> None:
        """Drop the parts of a complete sweep: one rename, then the deletion, so a kill leaves
        either every part or none."""
        trash = self.out / TRASH
        shutil.rmtree(trash, ignore_errors=True)
        if self.parts.is_dir():
            os.replace(self.parts, trash)
        shutil.rmtree(trash, ignore_errors=True)


def _failed_last(row: dict[str, Any]) -> bool:
    return row.get("status") != "ok"  # successful rows set the column order


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _fingerprint(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, renamed
    (removed again when the write fails, e.g. on a full disk)."""
    tmp = _tmp(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(table: pa.Table, path: Path) -> None:
    tmp = _tmp(path)
    try:
        pq.write_table(table.replace_schema_metadata(None), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=1, allow_nan=False, default=_plain) + "\n"
    write_bytes(path, text.encode())


def read_arrow(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def concat_parquet(parts: list[Path], path: Path) -> None:
    """Stream the Arrow ``parts`` into one Parquet file, one part in memory at a time; columns
    missing from a part (another market's providers) are filled with nulls."""
    schema = pa.unify_schemas([read_arrow(p).schema for p in parts], promote_options="permissive")
    tmp = _tmp(path)
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for p in parts:
                table = read_arrow(p)
                columns = [
                    table.column(f.name).cast(f.type)
                    if f.name in table.column_names
                    else pa.nulls(table.num_rows, f.type)
                    for f in schema
                ]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

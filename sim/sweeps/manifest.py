"""``manifest.json`` of a sweep: what was run, with what, where, and how each run went.

A :class:`Ledger` holds the manifest while a sweep runs: it is created for a new folder (or
taken over from the folder's manifest on ``--resume``, adding a session), records each run's
status as it finishes and is saved by the store, at most every few seconds while runs finish.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from sim.sweeps import provenance
from sim.sweeps.experiments import Experiment, RunSpec

EXTRA_PACKAGES = ("dask", "distributed", "SALib", "typer")
ENTRY_KEYS = ("status", "error", "seconds", "started", "worker")
SAVE_EVERY = 2.0  # seconds between rewrites while runs finish


@dataclass
class Ledger:
    manifest: dict[str, Any]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved_at: float = 0.0

    @classmethod
    def start(
        cls,
        exp: Experiment,
        specs: list[RunSpec],
        executor: str,
        sets: list[str] | None,
        replications: int | None,
        old: dict[str, Any] | None = None,
    ) -> Ledger:
        """A new manifest, or ``old`` (resuming) with a new session appended."""
        manifest = old or new_manifest(exp, specs, sets, replications)
        manifest["status"] = "running"
        manifest["sessions"].append(
            {
                "started": now(),
                "executor": executor,
                "host": socket.gethostname(),
                "version": provenance.version(),
                **provenance.git_state(),
            }
        )
        return cls(manifest, {e["run_id"]: e for e in manifest["runs"]})

    def record(self, row: dict[str, Any]) -> None:
        entry = {k: row.get(k) for k in ENTRY_KEYS}
        seconds = entry["seconds"]
        entry["seconds"] = None if seconds is None or seconds != seconds else float(seconds)
        self.entries[row["run_id"]].update(entry)

    @property
    def counts(self) -> dict[str, int]:
        statuses = [e["status"] for e in self.entries.values()]
        return {k: statuses.count(k) for k in ("ok", "failed", "pending")}

    def first_problem(self) -> dict[str, Any] | None:
        return next((e for e in self.entries.values() if e["status"] != "ok"), None)

    def current(self) -> dict[str, Any]:
        self.manifest.update(counts=self.counts, runs=list(self.entries.values()), updated=now())
        return self.manifest

    def due(self) -> bool:
        """Whether it is time to save again (and, if so, the clock restarts)."""
        if time.monotonic() - self.saved_at < SAVE_EVERY:
            return False
        self.saved_at = time.monotonic()
        return True

    def close(self, status: str, seconds: float, files: list[str]) -> dict[str, Any]:
        session = self.manifest["sessions"][-1]
        session.update(finished=now(), seconds=round(seconds, 1))
        self.manifest.update(status=status, files=files)
        return self.current()

    def resume_command(self, path) -> str:
        """The command that finishes this sweep."""
        made = self.manifest["experiment"]
        parts = [f"sim sweep {path} --out {{out}}"] + [f"--set {s}" for s in made["set"]]
        if made["replications"]:
            parts.append(f"--replications {made['replications']}")
        return " ".join([*parts, "--resume"])


def new_manifest(
    exp: Experiment, specs: list[RunSpec], sets: list[str] | None, replications: int | None
) -> dict[str, Any]:
    packages = provenance.packages()
    for name in EXTRA_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    manifest = {
        "status": "running",
        "experiment": {
            "name": exp.name,
            "description": exp.description,
            "file": exp.path,
            "hash": exp.hash,
            "set": list(sets or []),
            "replications": replications,
            "definition": exp.definition(),
        },
        "version": provenance.version(),
        **provenance.git_state(),
        "seeds": exp.seeds,
        "runs_total": len(specs),
        "packages": packages,
        "host": {
            **provenance.host(),
            "hostname": socket.gethostname(),
            "cpus": os.cpu_count(),
            "system": platform.system(),
        },
        "created": now(),
        "sessions": [],
        "runs": [
            {
                "run_id": s.run_id,
                "label": s.label,
                "replication": s.replication,
                "seed": s.seed,
                "status": "pending",
                **dict.fromkeys(ENTRY_KEYS[1:]),
            }
            for s in specs
        ],
    }
    if exp.sample is not None:
        manifest["sample"] = {
            "method": exp.sample.method,
            "n": exp.sample.n,
            "second_order": exp.sample.second_order,
            "problem": exp.sample.problem(),
        }
    return manifest


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

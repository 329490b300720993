"""One run from Python, with nothing written to disk: ``sim.run(...)`` for notebooks."""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import EconomyModel, metrics, settling
from sim.model import paths as param_paths
from sim.model.interventions import Intervention, check_names
from sim.model.metrics import UserSum, summarise
from sim.model.params import Params
from sim.model.paths import ParamPath
from sim.model.scenarios import DEFAULT_SCENARIO, policy_label, resolve_run
from sim.sweeps import provenance

OUTPUT_FILES = ("summary.json", "params.json", "timeseries.parquet", "panel.parquet")


@dataclass
class RunResult:
    """A finished run: run-level ``summary``, daily ``timeseries``, resolved ``params``."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    params: Params
    interventions: list[Intervention] = field(default_factory=list)
    panel: pd.DataFrame | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    paths: list[ParamPath] = field(default_factory=list)
    # only when per-user sums were asked for (ODD 7.14): each request's (N,) totals, and each
    # intervention's treated users (N,) bool at the end of the run (after any recruitment)
    user_sums: dict[UserSum, np.ndarray] = field(default_factory=dict)
    treated: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write the run's files into ``out`` atomically: all of them or none."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        try:
            os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it private; a run is to be shared
            write_json(tmp / "summary.json", self.summary)
            write_json(
                tmp / "params.json",
                {
                    **self.params.to_dict(),
                    "interventions": [x.to_dict() for x in self.interventions],
                    **({"paths": param_paths.table(self.paths)} if self.paths else {}),
                },
            )
            self.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
            if self.panel is not None:
                self.panel.to_parquet(tmp / "panel.parquet", index=False)
            replace_dir(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out


def write_json(path: Path, obj: Any) -> None:
    path.write_text(
        json.dumps(obj, indent=2, sort_keys=False, allow_nan=False, default=_nan_to_none) + "\n"
    )


def _nan_to_none(o):
    raise TypeError(f"not JSON serialisable: {o!r}")


def umask() -> int:
    """This process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale(out: Path) -> None:
    """Remove the hidden folders a killed save left beside ``out`` (``.NAME.tmp-PID-*`` and
    ``.NAME.old-PID``) whose process is gone; an earlier run moved aside but not replaced is
    put back first."""
    for path in out.parent.glob(f".{glob.escape(out.name)}.*"):
        kind, _, rest = path.name[len(out.name) + 2 :].partition("-")
        pid = rest.split("-")[0]
        if kind not in ("tmp", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind == "old" and not out.exists():
            path.rename(out)  # killed between moving the old run aside and the new one in
        else:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def replace_dir(new: Path, out: Path) -> None:
    """Put folder ``new`` where ``out`` is, swapping out an earlier run's folder."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        new.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(out)


def check_output_dir(out: str | Path) -> None:
    """Refuse a folder that holds anything but an earlier run's files."""
    from sim.model.params import ParamError

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParamError(f"--out {out} is a file, not a folder")
    if out.is_dir():
        foreign = [p.name for p in out.iterdir() if p.name not in OUTPUT_FILES]
        if foreign:
            raise ParamError(
                f"--out {out} already holds other files ({foreign[0]}); choose a new or empty folder"
            )


def _clean(value: float) -> float | None:
    return None if value != value else value  # NaN -> null in JSON


def drift_fields(frame: pd.DataFrame, window: int, tolerance: float = 0.0) -> dict[str, Any]:
    """summary.json's ``unsettled`` (the summary metrics whose drift across the summary window
    is larger than noise) and ``drift`` (each summary metric's drift table,
    :func:`sim.model.settling.drift`; ODD 7.14)."""
    table = settling.drift(frame, window, metrics.SUMMARY_FROM_DAILY, tolerance=tolerance)
    return {"unsettled": settling.unsettled(table), "drift": settling.as_json(table)}


def run(
    scenario: str = DEFAULT_SCENARIO,
    policy: str | None = None,
    *,
    users: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    config: str | Path | dict | None = None,
    set: list[str] | dict[str, Any] | None = None,
    interventions: list[Intervention] | None = None,
    paths: dict[str, Any] | list[ParamPath] | None = None,
    panel: bool = False,
    progress=None,
    user_sums: list[UserSum] | None = None,
) -> RunResult:
    """Run one simulation and return its results.

    Args:
        scenario: market preset (``mixed``, ``attention_economy``, ``intimacy_economy``).
        policy: objective of every provider (``attention``, ``intimacy``, ``wellbeing``); by
            default feeds pursue attention and companions intimacy.
        users, days, seed: shortcuts for ``run.users``, ``run.days``, ``run.seed``.
        config: a TOML file or a nested mapping of parameters (and ``interventions``).
        set: overrides as ``["companion.empathy=0.8"]`` or ``{"companion.empathy": 0.8}``.
        interventions: treatments in addition to those in ``config``.
        paths: parameters that follow a path over days, in addition to the ``[paths]`` of
            ``config``: ``{"companion.serving_cost": [[0, 0.002], [1095, 0.0005]]}`` (ODD 7.13).
        panel: also keep per-user states on sampled days.
        progress: called with the day number after each day.
        user_sums: per-user sums of a state over a window of days to keep (ODD 7.14); with
            them the result also holds every intervention's treated users.
    """
    params, from_config, all_paths = resolve_run(
        scenario, policy, config, set, paths=paths, users=users, days=days, seed=seed
    )
    all_interventions = from_config + list(interventions or [])
    check_names(all_interventions, "this run")
    t0 = time.perf_counter()
    model = EconomyModel(params, all_interventions, paths=all_paths, user_sums=user_sums or ())
    model.record_panel = panel
    model.run_model(progress)
    frame = metrics.frame(model)
    iv_dicts = [x.to_dict() for x in all_interventions]
    summary = {k: _clean(v) for k, v in summarise(model, frame).items()}
    summary.update(
        scenario=scenario,
        policy=policy_label(params),
        seed=params.run.seed,
        users=params.run.users,
        days=params.run.days,
        version=provenance.version(),
        **provenance.git_state(),
        config_hash=provenance.config_hash(
            params.to_dict(), iv_dicts, param_paths.table(all_paths)
        ),
        seconds=round(time.perf_counter() - t0, 3),
        **drift_fields(frame, params.run.summary_window, params.run.drift_tolerance),
    )
    panel_frame = pd.concat(model.panel, ignore_index=True) if panel and model.panel else None
    step_seconds = dict(model.step_seconds)
    sums = dict(model.user_sums)
    treated = {x.name: users.copy() for x, users, _ in model.intervention_arms} if sums else {}
    model.close()  # the results are taken: a process running many models keeps none of them
    return RunResult(
        summary=summary,
        timeseries=frame,
        params=params,
        interventions=all_interventions,
        panel=panel_frame,
        step_seconds=step_seconds,
        paths=all_paths,
        user_sums=sums,
        treated=treated,
    )

"""Provenance carried by every stored run: version, git SHA, config hash, packages, host."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow")


def version() -> str:
    try:
        return metadata.version("attention-intimacy-sim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@cache
def git_state() -> dict[str, Any]:
    """SHA of the checkout the package runs from, and whether it has uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        return {"git_sha": None, "git_dirty": None}
    return {"git_sha": sha, "git_dirty": dirty}


def config_hash(
    params: dict[str, Any],
    interventions: list[dict[str, Any]],
    paths: dict[str, Any] | None = None,
) -> str:
    """SHA-256 over the resolved parameters, interventions and parameter paths (when there are
    any, so a run without paths keeps its hash), seed excluded, canonical JSON."""
    tree = {k: dict(v) for k, v in params.items()}
    tree["run"] = {k: v for k, v in tree["run"].items() if k != "seed"}
    content = {"params": tree, "interventions": interventions}
    if paths:
        content["paths"] = paths
    blob = json.dumps(content, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def packages() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def host() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }

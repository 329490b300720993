"""Checks made before any work: the environment, input files, and whether runs fit in memory.

Each raises :class:`~sim.model.params.ParamError` (one line, exit code 2 on the command line).

Memory of one run, a simple formula fitted to the benchmark (``benchmarks/bench.py``: peak
resident memory 0.30 GB at 10,000 users, 0.52 GB at 100,000 and 1.40 GB at 1,000,000 with the
default ten ties a user), with the day's per-tie buffers of socialising added to it::

    bytes = 300 MB (the interpreter, numpy, Numba, Mesa)
          + users * (1,250 + 40 * network.mean_degree)   (user state; each directed tie's bytes)
          + panel users * 2,000                           (with a panel: its rows, for each sample day)

which is 1.65 KB a user at the default degree. A sweep holds one run per worker process at a
time, so it needs ``workers`` times its largest run. What this machine offers is the smallest
of its physical memory, the process's cgroup limit and its address-space limit (``ulimit -v``).
"""

from __future__ import annotations

import os
import re
import resource
import stat
import tempfile
from pathlib import Path

from sim.model.params import ParamError

BASE_BYTES = 300 * 2**20
USER_BYTES = 1_250
# Bytes per directed tie (a user has network.mean_degree of them): 16 fitted to the benchmark,
# and 24 for socialising, which works out each tie once for both of its ends: the 32-bit index
# of the tie from the other end and the 32-bit source user it is built from (both kept from the
# first day on), and the day's minutes together and tomorrow's strength (two float64 buffers).
TIE_BYTES = 16 + 24
PANEL_ROW_BYTES = 2_000
DEFAULT_DEGREE = 10
MAX_THREADS = 256


def estimate_bytes(users: int, mean_degree: int = DEFAULT_DEGREE, panel_users: int = 0) -> int:
    """Peak memory of one run (module docstring)."""
    panel = min(panel_users, users) * PANEL_ROW_BYTES
    return BASE_BYTES + users * (USER_BYTES + TIE_BYTES * mean_degree) + panel


def available_bytes() -> int | None:
    """Memory a process here may use: physical memory, the cgroup's limit, ``ulimit -v``."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        soft, _ = resource.getrlimit(which)
        if soft != resource.RLIM_INFINITY and soft > 0:
            limits.append(soft)
    return min(limits) if limits else None


def gigabytes(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_memory(
    users: int,
    panel_users: int = 0,
    mean_degree: int = DEFAULT_DEGREE,
    processes: int = 1,
    what: str = "the run",
) -> int:
    """Refuse runs whose estimated memory does not fit here; return the estimate in bytes."""
    need = estimate_bytes(users, mean_degree, panel_users) * processes
    have = available_bytes()
    if have is not None and need > have:
        each = f" ({processes} processes at once)" if processes > 1 else ""
        hint = (
            "; use fewer --workers, or fewer users"
            if processes > 1
            else "; use fewer users (run.users)"
        )
        raise ParamError(
            f"{what} would need about {gigabytes(need)} of memory{each} with {users:,} users, "
            f"and this machine allows {gigabytes(have)}{hint}"
        )
    return need


def check_environment() -> None:
    """``SIM_THREADS`` a whole number in [1, MAX_THREADS]."""
    raw = os.environ.get("SIM_THREADS", "").strip()
    if raw and (not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= MAX_THREADS):
        raise ParamError(
            f"environment variable SIM_THREADS must be a whole number from 1 to {MAX_THREADS}, "
            f"got {raw!r}"
        )


def check_input_file(path: str | Path, what: str) -> None:
    """An input file must be a regular file (a FIFO or a device would block or never end)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ParamError(f"{what} {path} does not exist") from None
    except OSError as e:
        raise ParamError(f"{what} {path} cannot be read: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise ParamError(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise ParamError(f"{what} {path} is not a regular file (a pipe or a device?)")
    if not os.access(path, os.R_OK):
        raise ParamError(f"{what} {path} cannot be read: permission denied")


def check_writable_dir(out: Path, option: str = "--out", name: Path | None = None) -> None:
    """A folder that exists and is writable, or whose nearest existing parent is: a file is
    created there and removed at once (``os.access`` says yes to root on a read-only folder).
    ``name`` is what the message names (the folder itself by default)."""
    name = out if name is None else name
    if out.exists() and not out.is_dir():
        raise ParamError(f"{option} {name} cannot be written: {out} is a file, not a folder")
    for folder in [out.absolute(), *out.absolute().parents]:
        if folder.exists():
            if not folder.is_dir():
                raise ParamError(f"{option} {name} cannot be created: {folder} is a file")
            try:
                with tempfile.TemporaryFile(dir=folder, prefix=".sim-probe-"):
                    pass
            except OSError as e:
                raise ParamError(
                    f"{option} {name} cannot be written: {folder} is not writable "
                    f"({e.strerror or e})"
                ) from None
            return


def check_sets(sets: list[str] | None) -> None:
    """Each ``--set PATH=VALUE`` holds one value: TOML after it (``0.5\nx = 1``) is refused,
    not ignored."""
    import tomllib

    for text in sets or []:
        _, sep, raw = text.partition("=")
        try:
            table = tomllib.loads(f"v = {raw.strip()}")
        except tomllib.TOMLDecodeError:
            table = {}  # bare text: read as a string
        if sep and set(table) - {"v"}:
            raise ParamError(
                f"--set expects one PATH=VALUE (e.g. companion.empathy=0.8), got {text!r}: "
                "more follows the value"
            )
        if "\n" in raw.strip() or "\r" in raw:
            raise ParamError(f"--set expects a value on one line, got {text!r}")

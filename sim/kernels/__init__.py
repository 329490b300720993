"""Compiled kernels for the day's hot loops (Numba), with the numpy code as the reference path.

Each mechanism module keeps its numpy implementation, which is the specification; where Numba is
installed the model runs fused per-user loops from this package instead. The kernels do the same
floating-point operations in the same order as the numpy code, so both paths give the same
results bit for bit (tests/test_kernels.py runs them side by side). Two rules keep it so:

- transcendental functions (exp, expm1) are left to numpy on whole buffers: numpy's SIMD exp
  and the C library's, which compiled code calls, differ in the last bit for some inputs;
- random draws go through the same ``numpy.random.Generator`` (Numba implements its
  distributions with numpy's algorithms), in the same order, so every stream is read as before.

``SIM_NUMBA=0`` in the environment selects the numpy path at import; :func:`use` switches
between the paths at run time (for tests). Compiled kernels are cached on disk (``cache=True``),
so only the first run on a machine pays for compiling them.
"""

from __future__ import annotations

import contextlib
import os

try:
    if os.environ.get("SIM_NUMBA", "1").strip().lower() in ("0", "false", "off", "no"):
        raise ImportError("disabled by SIM_NUMBA")
    import numba
except ImportError:  # pragma: no cover - exercised where Numba is absent
    numba = None

AVAILABLE = numba is not None
ENABLED = AVAILABLE


def jit(fn):
    """Compile ``fn`` with Numba when it is available (cached on disk); else leave it as is."""
    if numba is None:
        return fn
    # error_model="numpy": x / 0 gives inf or nan, as in numpy, instead of raising
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


def enabled() -> bool:
    """True when the model runs the compiled kernels."""
    return ENABLED


@contextlib.contextmanager
def use(flag: bool):
    """Run the body with the compiled kernels on (``True``, if available) or off."""
    global ENABLED
    before = ENABLED
    ENABLED = bool(flag) and AVAILABLE
    try:
        yield ENABLED
    finally:
        ENABLED = before

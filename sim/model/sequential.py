"""When a lever's accumulated evidence is judged, and the threshold it must pass (ODD 7.9).

A lever's short tests at one value pool their evidence (:func:`sim.model.abtests.accumulated`).
Under no effect, one side's pooled z after k tests is the sum of k independent standard normal
scores over sqrt(k), taking the tests to carry equal information (arms of the same shares of a
user base that changes slowly), so that its z's at looks k < l are correlated sqrt(k / l).
The evidence is judged each time it has doubled up to ``2 * EVERY`` tests and at every
``EVERY``-th test after (:func:`judgement`), the j-th judgement spending a share
1 / (j (j + 1)) of the side's rate a (:func:`spent`), shares that sum to 1 over every judgement
there can be. Its threshold c_j is the group-sequential boundary of that spending (Lan & DeMets
1983, "Discrete sequential boundaries for clinical trials", Biometrika 70(3); Jennison &
Turnbull 2000, Group Sequential Methods with Applications to Clinical Trials, ch. 7 and 19):

    P(Z_1 < c_1, ..., Z_{j-1} < c_{j-1}, Z_j >= c_j) = a / (j (j + 1))     under no effect,

computed by numerical integration over the density of the scores of the paths that have not
crossed (:func:`boundary`). So a side crosses over all its judgements with probability at most
a, with tests of equal information (more information later makes it more, ODD 7.9).
c_1 = Phi^-1(1 - a / 2); later thresholds are below the Bonferroni ones,
Phi^-1(1 - a / (j (j + 1))), which take the looks to be unrelated, by more the later the look,
successive looks being ever more alike.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats

EVERY = 4  # past 2 * EVERY tests, a lever's evidence is judged at every EVERY-th (a power of 2)
_FIRST = (2 * EVERY).bit_length()  # the judgement at look 2 * EVERY


def judgement(looks: int) -> int:
    """Which judgement of a lever's accumulated evidence its ``looks``-th test is: it is judged
    each time it has doubled up to ``2 * EVERY`` tests (looks 1, 2, 4, 8) and at every
    ``EVERY``-th test after (12, 16, 20, ...), so that evidence that grows slowly waits at most
    ``EVERY`` windows for its next judgement; 0 between."""
    if looks <= 2 * EVERY:
        j = looks.bit_length()
        return j if looks == 1 << (j - 1) else 0
    return _FIRST + (looks - 2 * EVERY) // EVERY if looks % EVERY == 0 else 0


def look_of(j: int) -> int:
    """The look at which the ``j``-th judgement comes (the inverse of :func:`judgement`)."""
    return 1 << (j - 1) if j <= _FIRST else 2 * EVERY + EVERY * (j - _FIRST)


def spent(looks: int) -> float:
    """The share of a side's rate its ``looks``-th test may use: the j-th :func:`judgement`
    has share 1 / (j (j + 1)), shares that sum to 1 over every judgement there can be, so that
    a lever with no effect moves over all of them with probability at most what one test had;
    0 between (the evidence only grows)."""
    j = judgement(looks)
    return 1.0 / (j * (j + 1)) if j else 0.0


class Stage(NamedTuple):
    """A judgement's threshold (on z) and what is left of the paths that have not crossed
    it nor any before: their scores (sums of z) on a grid and each point's mass."""

    threshold: float
    scores: np.ndarray
    mass: np.ndarray


SPACING = 8  # grid points per sd of a judgement's new scores
DEPTH = 7.0  # the grid reaches this many sd of the score below zero


def simpson(points: int) -> np.ndarray:
    """Simpson's rule's weights for an odd number of equally spaced points, spacing 1."""
    w = np.full(points, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    return w / 3.0


def next_stage(rate: float, j: int, before: Stage) -> Stage:
    """The ``j``-th judgement's :class:`Stage` at a side's ``rate`` (module docstring), from the
    paths ``before`` left: its threshold spends ``rate / (j (j + 1))`` of crossing among them,
    each of whose scores s moves by a normal increment of variance ``look_of(j) - look_of(j-1)``:

        P(cross at j) = sum over points of mass * (1 - Phi((c_j sqrt(look) - s) / sd))."""
    look = look_of(j)
    sd = math.sqrt(look - (look_of(j - 1) if j > 1 else 0))
    share = rate / (j * (j + 1))

    def crossing(c: float) -> float:
        return float(before.mass @ stats.norm.sf((c * math.sqrt(look) - before.scores) / sd))

    c = optimize.brentq(lambda c: crossing(c) - share, 0.0, 40.0, xtol=1e-10)
    top, bottom = c * math.sqrt(look), -DEPTH * math.sqrt(look)
    points = 2 * math.ceil((top - bottom) * SPACING / sd / 2) + 1
    scores, step = np.linspace(bottom, top, points, retstep=True)
    density = stats.norm.pdf((scores[:, None] - before.scores[None, :]) / sd) @ before.mass / sd
    return Stage(c, scores, density * simpson(points) * step)


_STAGES: dict[float, list[Stage]] = {}  # by rate, the judgements' stages computed so far


def stage(rate: float, j: int) -> Stage:
    """The ``j``-th judgement's :class:`Stage` at a side's ``rate``, each computed once from the
    one before (:func:`next_stage`; stage 0: every path at score 0, before any test)."""
    stages = _STAGES.setdefault(rate, [Stage(math.inf, np.zeros(1), np.ones(1))])
    while len(stages) <= j:
        stages.append(next_stage(rate, len(stages), stages[-1]))
    return stages[j]


def boundary(rate: float, j: int) -> float:
    """The threshold on a side's pooled z at its ``j``-th judgement, the side crossing over
    all its judgements with probability at most ``rate`` under no effect (:func:`stage`);
    infinite between judgements (``j`` 0)."""
    return stage(rate, j).threshold if j else math.inf

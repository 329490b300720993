"""Compiled upkeep of the friends' counts (:class:`sim.network.FriendCounts`)."""

from __future__ import annotations

from sim.kernels import jit


@jit
def update_counts(indptr, target, adopted, before, counts):
    """Add +1 or -1 to the friends' counts of every user whose adoption changed since
    ``before``, then copy ``adopted`` into ``before``. Counts are whole numbers, so the order
    of the additions does not matter."""
    n, P = adopted.shape
    for i in range(n):
        for j in range(P):
            a = adopted[i, j]
            if a != before[i, j]:
                delta = 1 if a else -1
                for e in range(indptr[i], indptr[i + 1]):
                    counts[target[e], j] += delta
                before[i, j] = a

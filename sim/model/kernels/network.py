"""Compiled upkeep of the friends' counts (:class:`sim.model.network.FriendCounts`)."""

from __future__ import annotations

import numpy as np

from sim.model.kernels import jit


@jit
def update_counts(indptr, target, adopted, before, counts):
    """Add +1 or -1 to the friends' counts of every user whose adoption changed since
    ``before``, then copy ``adopted`` into ``before``. ``adopted`` and ``before`` are the
    (N, P) flags flattened, as bytes; they are compared eight at a time, as few change in a
    day. Counts are whole numbers, so the order of the additions does not matter."""
    P = counts.shape[1]
    size = adopted.shape[0]
    words = size // 8
    now, then = adopted[: words * 8].view(np.uint64), before[: words * 8].view(np.uint64)
    for w in range(words + 1):
        if w < words and now[w] == then[w]:
            continue
        for x in range(8 * w, min(8 * w + 8, size)):
            a = adopted[x]
            if a != before[x]:
                i, j = x // P, x % P
                delta = 1 if a else -1
                for e in range(indptr[i], indptr[i + 1]):
                    counts[target[e], j] += delta
                before[x] = a

"""Named random streams for common random numbers (ODD 5, design concepts).

Every stochastic decision draws from its own stream, keyed by (root seed, stream name, day), and
draws a fixed-shape array indexed by user (and by provider or option where it needs one), so a
change to one part of a scenario does not reshuffle the draws of another, and two scenarios that
differ only from day t on are identical before t.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> int:
    # A stable hash: Python's hash() of a str changes between processes.
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """Factory of independent generators, one per (name, day)."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __call__(self, name: str, day: int = 0) -> np.random.Generator:
        ss = np.random.SeedSequence([self.seed, _name_key(name), int(day)])
        return np.random.Generator(np.random.PCG64(ss))

    def uniform(self, name: str, day: int, shape) -> np.ndarray:
        return self(name, day).random(shape)

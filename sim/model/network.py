"""The social network of human ties, held as directed edge arrays (ODD 2.3, 7.6).

Every undirected tie appears twice, once from each side, sorted by source user: a user's ties
are a row of a CSR matrix (``indptr``), and a tie's two sides are paired by ``reverse``. Tie
strength is kept equal on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np

from sim.model.compiled import jit
from sim.model.params import Params
from sim.model.rng import Streams


class Ties(NamedTuple):
    """The network as compiled loops read it: user ``i``'s ties are ``indptr[i]`` to
    ``indptr[i + 1]`` of ``target`` and ``strength``."""

    indptr: np.ndarray
    target: np.ndarray
    degree: np.ndarray
    strength: np.ndarray


@dataclass
class Network:
    target: np.ndarray  # (E,) user at the other end
    degree: np.ndarray  # (N,)
    strength: np.ndarray  # (E,) 0-1, the same at both ends of a tie

    @property
    def source(self) -> np.ndarray:
        """(E,) user at this end of each tie: each user repeated ``degree`` times. Built on
        first use (the compiled loops read the ties by :attr:`indptr` instead)."""
        src = self.__dict__.get("_source")
        if src is None:
            src = np.repeat(np.arange(self.degree.shape[0], dtype=self.target.dtype), self.degree)
            self.__dict__["_source"] = src
        return src

    @property
    def reverse(self) -> np.ndarray:
        """(E,) index of the same tie seen from the other end. Built on first use (by the
        day's socialising, which works out each tie once for both of its ends)."""
        rev = self.__dict__.get("_reverse")
        if rev is None:
            # position of (target, source) in the list sorted by (source, target)
            order = np.lexsort((self.source, self.target))
            rev = np.empty(order.size, dtype=self.target.dtype)
            rev[order] = np.arange(order.size, dtype=self.target.dtype)
            self.__dict__["_reverse"] = rev
        return rev

    def nbytes(self) -> int:
        """Memory held by the network's arrays, including any built on first use."""
        kept = (self.target, self.degree, self.strength)
        lazy = [v for k, v in self.__dict__.items() if k in ("_source", "_indptr", "_reverse")]
        return sum(a.nbytes for a in (*kept, *lazy))

    @property
    def indptr(self) -> np.ndarray:
        """(N + 1,) start of each user's ties in the edge arrays (CSR row pointers)."""
        ptr = self.__dict__.get("_indptr")
        if ptr is None or ptr.shape[0] != self.degree.shape[0] + 1:
            ptr = np.zeros(self.degree.shape[0] + 1, np.int64)
            np.cumsum(self.degree, out=ptr[1:])
            self.__dict__["_indptr"] = ptr
        return ptr

    def ties(self) -> Ties:
        return Ties(self.indptr, self.target, self.degree, self.strength)

    @property
    def n_users(self) -> int:
        return self.degree.shape[0]


class FriendCounts:
    """How many of each user's friends use each provider, ``adjacency @ adopted`` (N, P).

    Kept up to date from the users whose adoption changed since the last call, so a day costs
    in proportion to adoptions and quits, not to ties.
    """

    def __init__(self, network: Network, adopted: np.ndarray):
        self.network = network
        self.adopted = np.zeros(adopted.shape, bool)
        self.counts = np.zeros(adopted.shape, np.int32)  # whole numbers

    def __call__(self, adopted: np.ndarray) -> np.ndarray:
        """Counts for ``adopted`` (N, P) bool; the returned array is updated in place later."""
        net = self.network
        update_counts(net.indptr, net.target, _bytes(adopted), _bytes(self.adopted), self.counts)
        return self.counts


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


def _bytes(flags: np.ndarray) -> np.ndarray:
    """(N, P) bool flags as a flat uint8 view (no copy)."""
    return np.ascontiguousarray(flags).reshape(-1).view(np.uint8)


# Above this many users the network is built by watts_strogatz_edges: networkx holds a graph of
# a million users in several GB of dicts and takes minutes to build it.
NETWORKX_MAX_USERS = 200_000


def watts_strogatz_edges(n: int, k: int, p: float, seed: int) -> np.ndarray:
    """Undirected edges (m, 2) of a Watts-Strogatz small world, built with arrays.

    The model of ``networkx.watts_strogatz_graph``: a ring lattice joining each user to its
    ``k / 2`` nearest neighbours on each side, then each lattice edge (u, u + j) rewired with
    probability ``p`` to (u, w), w uniform, redrawn while it would be a self-tie or a tie that
    already exists. networkx rewires one edge after another; here all edges are drawn at once
    and the few that collide are redrawn together, which gives the same distribution of graphs
    (collisions have probability about k / n) but not the same graph for a seed.
    """
    rng = np.random.default_rng(seed)
    half = k // 2
    u = np.tile(np.arange(n, dtype=np.int64), half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    moved = np.flatnonzero(rng.random(u.size) < p)
    v[moved] = rng.integers(n, size=moved.size)
    todo = moved
    while todo.size:
        key = np.minimum(u, v) * n + np.maximum(u, v)
        # a rewired edge collides with a self-tie or with an earlier copy of its pair; lattice
        # edges that were not rewired sort first and are kept
        rewired = np.zeros(u.size, bool)
        rewired[moved] = True
        order = np.lexsort((rewired, key))
        dup = np.zeros(u.size, bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        todo = np.flatnonzero((dup | (u == v)) & rewired)
        v[todo] = rng.integers(n, size=todo.size)
        del key, order, dup
    return np.column_stack([u, v])


def make_network(params: Params, streams: Streams) -> Network:
    """A Watts-Strogatz small world of mean degree ``network.mean_degree`` (ODD 5)."""
    n = params.run.users
    k = min(params.network.mean_degree, n - 1)
    k -= k % 2
    seed = int(streams("network").integers(2**31))
    if n <= NETWORKX_MAX_USERS:
        g = nx.watts_strogatz_graph(n, max(k, 2), params.network.rewiring, seed=seed)
        edges = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    else:
        edges = watts_strogatz_edges(n, max(k, 2), params.network.rewiring, seed)
    m = edges.shape[0]
    mean = params.network.initial_strength
    rng = streams("tie_strength")
    if params.mechanisms.heterogeneity and 0.0 < mean < 1.0:
        undirected = rng.beta(4.0 * mean, 4.0 * (1.0 - mean), m)
    else:
        undirected = np.full(m, mean)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    strength = np.concatenate([undirected, undirected])
    order = np.lexsort((dst, src))
    src, dst, strength = src[order], dst[order], strength[order]
    degree = np.bincount(src, minlength=n)
    # user and edge numbers in 32 bits while the directed ties number fewer than 2**31: half
    # the memory of the edge arrays, and less to read every day
    index = np.int32 if 2 * m < 2**31 else np.int64
    return Network(
        target=dst.astype(index),
        degree=degree,
        strength=strength,
    )

"""The prime-offset graph over zero indices: nodes 1..M, undirected edges n ↔ n + p.

Joining zeros whose indices differ by a prime mirrors the explicit formula, where each prime
contributes one oscillation to S(t); message passing along these offsets lets a model combine
neighbours at exactly those lags. The graph is a band of width max(p), so it is stored as an
edge list (O(M·|primes|)) and never as anything M×M.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, read_npz


def is_prime(n: int) -> bool:
    """Trial division: the prime lists here are short and small."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    k = 3
    while k * k <= n:
        if n % k == 0:
            return False
        k += 2
    return True


def first_primes(count: int) -> list[int]:
    """The first `count` primes (for prime-wave features configured as "first K primes")."""
    out: list[int] = []
    n = 2
    while len(out) < count:
        if is_prime(n):
            out.append(n)
        n += 1
    return out


def validate_primes(primes: list[int], where: str = "graph.primes") -> list[int]:
    """Refuse non-primes and duplicates by name, so no job starts on a wrong graph."""
    bad = [p for p in primes if not isinstance(p, int | np.integer) or not is_prime(int(p))]
    if bad:
        raise ZetalabError(
            f"{where} contains {', '.join(map(str, bad))}, which {'is' if len(bad) == 1 else 'are'}"
            " not prime",
            f"list only primes in {where}, e.g. [2, 3, 5, 7, 11, 13]",
        )
    seen: set[int] = set()
    dup = sorted({int(p) for p in primes if int(p) in seen or seen.add(int(p))})
    if dup:
        raise ZetalabError(
            f"{where} lists {', '.join(map(str, dup))} more than once",
            f"remove the duplicates from {where}",
        )
    if not primes:
        raise ZetalabError(f"{where} is empty", f"give at least one prime in {where}")
    return sorted(int(p) for p in primes)


def primes_tag(primes: list[int]) -> str:
    """Directory tag of a prime set, e.g. [2, 3, 5] → '2-3-5' (sorted, so order is irrelevant)."""
    return "-".join(str(p) for p in sorted(int(p) for p in primes))


def primes_of_tag(tag: str) -> list[int]:
    """The prime set of a directory tag (the inverse of primes_tag), for the graph rule's
    {ptag} wildcard: the rule hands the primes to its script, which reads no path."""
    return [int(p) for p in tag.split("-")]


def expected_edge_count(num_nodes: int, primes: list[int]) -> int:
    """Σ_p max(M − p, 0) undirected edges: each n ≤ M − p has exactly one partner n + p."""
    return int(sum(max(num_nodes - int(p), 0) for p in primes))


@dataclass(frozen=True)
class PrimeGraph:
    """Undirected edges as 0-based (src < dst) pairs; node i is zero index i + 1."""

    num_nodes: int
    primes: tuple[int, ...]
    src: np.ndarray  # int64, 0-based
    dst: np.ndarray  # int64, 0-based, dst = src + p

    @property
    def num_edges(self) -> int:
        return len(self.src)

    def degree(self) -> np.ndarray:
        return np.bincount(self.src, minlength=self.num_nodes) + np.bincount(
            self.dst, minlength=self.num_nodes
        )

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Symmetric CSR (indptr, indices), neighbours sorted, as METIS and torch want it."""
        rows = np.concatenate([self.src, self.dst])
        cols = np.concatenate([self.dst, self.src])
        order = np.lexsort((cols, rows))
        indptr = np.zeros(self.num_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.num_nodes), out=indptr[1:])
        return indptr, cols[order]


def build_graph(num_nodes: int, primes: list[int]) -> PrimeGraph:
    """Vectorised edge list: for each p, the pairs (n, n + p) for n = 1..M − p."""
    primes = validate_primes(list(primes))
    if num_nodes < 1:
        raise ZetalabError(f"a graph needs at least one node, not {num_nodes}", "raise dataset.N")
    parts_src = [np.arange(0, max(num_nodes - p, 0), dtype=np.int64) for p in primes]
    src = np.concatenate(parts_src) if parts_src else np.zeros(0, dtype=np.int64)
    dst = np.concatenate([s + p for s, p in zip(parts_src, primes, strict=True)])
    return PrimeGraph(num_nodes, tuple(primes), src, dst)


def graph_stats(graph: PrimeGraph) -> dict:
    """Small JSON record beside the graph: sizes and the edge-count formula check."""
    expected = expected_edge_count(graph.num_nodes, list(graph.primes))
    deg = graph.degree()
    return {
        "nodes": graph.num_nodes,
        "primes": list(graph.primes),
        "edges": graph.num_edges,
        "edges_expected": expected,
        "edge_formula_ok": graph.num_edges == expected,
        "degree_min": int(deg.min()),
        "degree_max": int(deg.max()),
        "degree_mean": float(deg.mean()),
    }


def save_graph(path: str | Path, graph: PrimeGraph) -> None:
    """Atomic .npz with the edge list and what built it (used to match runs to graphs)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            num_nodes=np.int64(graph.num_nodes),
            primes=np.asarray(graph.primes, dtype=np.int64),
            src=graph.src,
            dst=graph.dst,
        )


def read_graph_meta(path: str | Path) -> tuple[int, tuple[int, ...]]:
    """(num_nodes, primes) without loading the edges."""
    return read_npz(
        path,
        lambda data: (int(data["num_nodes"]), tuple(int(p) for p in data["primes"])),
        "graph",
        "graph_build",
    )


def load_graph(path: str | Path) -> PrimeGraph:
    """Read a graph and check it against the edge-count formula."""
    graph = read_npz(
        path,
        lambda data: PrimeGraph(
            int(data["num_nodes"]),
            tuple(int(p) for p in data["primes"]),
            data["src"].astype(np.int64),
            data["dst"].astype(np.int64),
        ),
        "graph",
        "graph_build",
    )
    if graph.num_edges != expected_edge_count(graph.num_nodes, list(graph.primes)):
        raise ZetalabError(
            f"{path} has {graph.num_edges} edges, not the Σ_p (M − p) the formula gives",
            "delete it and rerun the graph_build rule",
        )
    return graph

"""Partitions of the prime graph into clusters for Cluster-GCN mini-batches.

`metis` (pymetis, a real multilevel k-way partition minimising the edge cut) and
`contiguous` (equal index blocks: the natural cut of a band graph, and a check on METIS).
Every node lands in exactly one part; edge cut and balance are recorded so a poor partition
is visible before any training time is spent on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zetalab.config import schema_enum
from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, read_npz
from zetalab.learning.graph import PrimeGraph

METHODS = schema_enum("graph", "partition", "method")  # config/schema/graph.schema.yaml


@dataclass(frozen=True)
class Partition:
    """parts[i] ∈ 0..num_parts−1 is the cluster of node i (0-based node, zero index i + 1)."""

    method: str
    num_parts: int
    parts: np.ndarray

    def members(self) -> list[np.ndarray]:
        """Sorted 0-based node ids of each cluster (one stable argsort, no per-part scans)."""
        order = np.argsort(self.parts, kind="stable")
        bounds = np.cumsum(np.bincount(self.parts, minlength=self.num_parts))[:-1]
        return np.split(order, bounds)


def check_num_parts(num_parts: int, num_nodes: int) -> None:
    """More clusters than nodes would leave empty clusters: refuse before partitioning."""
    if num_parts < 1 or num_parts > num_nodes:
        raise ZetalabError(
            f"graph.partition.num_parts = {num_parts} but the graph has {num_nodes} nodes",
            f"use 1 ≤ graph.partition.num_parts ≤ {num_nodes}",
        )


def partition_graph(graph: PrimeGraph, method: str, num_parts: int, seed: int = 0) -> Partition:
    """Partition with the named method; the result always covers every node once."""
    check_num_parts(num_parts, graph.num_nodes)
    if method == "contiguous":
        parts = (np.arange(graph.num_nodes, dtype=np.int64) * num_parts) // graph.num_nodes
    elif method == "metis":
        parts = _metis(graph, num_parts, seed)
    else:
        raise ZetalabError(
            f"unknown partition method {method!r}", f"use one of: {', '.join(METHODS)}"
        )
    return Partition(method, num_parts, parts)


def _metis(graph: PrimeGraph, num_parts: int, seed: int) -> np.ndarray:
    import pymetis

    if num_parts == 1:
        return np.zeros(graph.num_nodes, dtype=np.int64)
    indptr, indices = graph.csr()
    options = pymetis.Options()
    options.seed = seed
    adjacency = pymetis.CSRAdjacency(indptr.astype(np.int32), indices.astype(np.int32))
    _, membership = pymetis.part_graph(num_parts, adjacency, options=options)
    parts = np.asarray(membership, dtype=np.int64)
    # METIS may leave a part empty on tiny graphs; renumber so every label 0..k−1 is used
    # only if none is empty, otherwise say so rather than train on an empty cluster.
    counts = np.bincount(parts, minlength=num_parts)
    if np.any(counts == 0):
        raise ZetalabError(
            f"METIS left {int(np.sum(counts == 0))} of {num_parts} parts empty "
            f"on a graph of {graph.num_nodes} nodes",
            "use fewer graph.partition.num_parts or graph.partition.method: contiguous",
        )
    return parts


def partition_stats(graph: PrimeGraph, partition: Partition) -> dict:
    """Edge cut (count and fraction) and balance (largest part / mean part size)."""
    cut = int(np.sum(partition.parts[graph.src] != partition.parts[graph.dst]))
    sizes = np.bincount(partition.parts, minlength=partition.num_parts)
    return {
        "method": partition.method,
        "num_parts": partition.num_parts,
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "edge_cut": cut,
        "edge_cut_fraction": cut / max(graph.num_edges, 1),
        "balance": float(sizes.max() / sizes.mean()),
        "part_size_min": int(sizes.min()),
        "part_size_max": int(sizes.max()),
    }


def save_partition(path: str | Path, partition: Partition, primes: tuple[int, ...]) -> None:
    """Atomic .npz; records the graph it belongs to, so a run can match it."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            parts=partition.parts.astype(np.int64),
            num_parts=np.int64(partition.num_parts),
            method=np.str_(partition.method),
            primes=np.asarray(primes, dtype=np.int64),
        )


def read_partition_meta(path: str | Path) -> tuple[str, int, int, tuple[int, ...]]:
    """(method, num_parts, num_nodes, primes) of a partition file."""
    return read_npz(
        path,
        lambda data: (
            str(data["method"]),
            int(data["num_parts"]),
            len(data["parts"]),
            tuple(int(p) for p in data["primes"]),
        ),
        "partition",
        "graph_partition",
    )


def load_partition(path: str | Path) -> Partition:
    """Read a partition and check that every node has a valid part."""
    p = read_npz(
        path,
        lambda data: Partition(
            str(data["method"]), int(data["num_parts"]), data["parts"].astype(np.int64)
        ),
        "partition",
        "graph_partition",
    )
    if p.parts.size and (p.parts.min() < 0 or p.parts.max() >= p.num_parts):
        raise ZetalabError(
            f"{path} assigns nodes to parts outside 0..{p.num_parts - 1}",
            "delete it and rerun the graph_partition rule",
        )
    return p

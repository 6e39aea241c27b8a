"""Per-epoch hidden masks and the batches a model steps on: the whole graph, or Cluster-GCN
groups of clusters (induced subgraphs).

Induced subgraphs are found from the node list alone: the prime graph joins n and n + p, so
for each p a binary search in the sorted batch finds the partners present. The cost depends on
the batch, not on N, which keeps mini-batch memory flat in N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from zetalab.learning.graph import PrimeGraph
from zetalab.learning.models import normalized_adjacency


def hidden_mask(
    rng: np.random.Generator,
    observable: np.ndarray,
    N: int,
    random_fraction: float,
    blocks: int,
    block_length: int,
) -> np.ndarray:
    """Observable train nodes to hide for one step, shaped like the task: a random subset
    (scattered nodes) plus contiguous spans of the horizon's length.

    The first span is the tail block ending at node N, like the extrapolation window that
    follows the train sequence; the others start uniformly at random inside the train range.
    """
    hidden = observable & (rng.random(len(observable)) < random_fraction)
    length = min(block_length, N)
    for b in range(blocks):
        start = N - length if b == 0 else int(rng.integers(0, N - length + 1))
        hidden[start : start + length] |= observable[start : start + length]
    return hidden


@dataclass(frozen=True)
class Batch:
    """An induced subgraph: sorted 0-based global node ids and local (src < dst) edges."""

    nodes: np.ndarray
    src: np.ndarray
    dst: np.ndarray


def induced_subgraph(nodes: np.ndarray, primes: tuple[int, ...]) -> Batch:
    """Edges n ↔ n + p with both ends in `nodes` (sorted), in local numbering."""
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    srcs, dsts = [], []
    for p in primes:
        pos = np.searchsorted(nodes, nodes + p)
        ok = pos < len(nodes)
        ok[ok] = nodes[pos[ok]] == nodes[ok] + p
        srcs.append(np.nonzero(ok)[0])
        dsts.append(pos[ok])
    return Batch(nodes, np.concatenate(srcs), np.concatenate(dsts))


def cluster_groups(
    members: list[np.ndarray], per_step: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Clusters joined `per_step` at a time, in a random order when training (rng given)."""
    order = np.arange(len(members)) if rng is None else rng.permutation(len(members))
    return [
        np.concatenate([members[c] for c in order[i : i + per_step]])
        for i in range(0, len(order), per_step)
    ]


def consecutive_pairs(nodes: np.ndarray, limit: int) -> np.ndarray:
    """Local positions i with nodes[i+1] = nodes[i] + 1 and both below `limit` (train nodes).

    These are the contiguous index runs inside a batch, over which spacings are defined.
    """
    if len(nodes) < 2:
        return np.zeros(0, dtype=np.int64)
    ok = (np.diff(nodes) == 1) & (nodes[1:] < limit)
    return np.nonzero(ok)[0]


@dataclass(frozen=True)
class GraphBatch:
    """What one step sees: global node ids, their normalised adjacency, the consecutive train
    pairs (local positions) over which spacings are taken, and whether it is the whole graph
    (only then is the train sequence complete, as the global rg_penalty needs)."""

    nodes: torch.Tensor
    adj: torch.Tensor
    pairs: torch.Tensor
    size: int
    whole: bool


def whole_graph_batch(graph: PrimeGraph, N: int, conv: str, device: torch.device) -> GraphBatch:
    """The full-batch case: every node, every edge, train pairs 1..N."""
    total = graph.num_nodes
    return GraphBatch(
        nodes=torch.arange(total, device=device),
        adj=normalized_adjacency(total, graph.src, graph.dst, conv, device),
        pairs=torch.arange(N - 1, device=device),
        size=total,
        whole=True,
    )


def cluster_batches(
    members: list[np.ndarray],
    per_step: int,
    rng: np.random.Generator | None,
    primes: tuple[int, ...],
    N: int,
    conv: str,
    device: torch.device,
) -> list[GraphBatch]:
    """Cluster-GCN batches: groups of `per_step` clusters (shuffled when rng is given)."""
    batches = []
    for group in cluster_groups(members, per_step, rng):
        sub = induced_subgraph(group, primes)
        batches.append(
            GraphBatch(
                nodes=torch.as_tensor(sub.nodes, device=device),
                adj=normalized_adjacency(len(sub.nodes), sub.src, sub.dst, conv, device),
                pairs=torch.as_tensor(consecutive_pairs(sub.nodes, N), device=device),
                size=len(sub.nodes),
                whole=False,
            )
        )
    return batches

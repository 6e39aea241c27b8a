"""Small message-passing networks over the prime graph, in the style of PyG's examples.

An input projection, a stack of PyG convolutions with residual connections, and a linear read
out of δ̂. The adjacency is a `torch.sparse_csr_tensor` passed as PyG's `adj_t`, normalised
ahead of time: the convolutions then aggregate with one sparse-dense product per layer and
never materialise a per-edge hidden-size tensor, so memory per node stays at a few hidden
vectors per layer (linear in N, ~KB per node at hidden 64).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import GCNConv, GraphConv, SAGEConv

CONVS = ("graphconv", "sage", "gcn")

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")


def _make_conv(kind: str, hidden: int) -> nn.Module:
    # Aggregation is a plain sum over the pre-normalised adjacency (mean for graphconv/sage,
    # symmetric with self loops for gcn): the one reduction torch.sparse.mm differentiates
    # on CPU and CUDA alike without torch-sparse.
    if kind == "graphconv":
        return GraphConv(hidden, hidden, aggr="add")
    if kind == "sage":
        return SAGEConv(hidden, hidden, aggr="sum")
    if kind == "gcn":
        return GCNConv(hidden, hidden, normalize=False, add_self_loops=False)
    raise ValueError(f"unknown conv {kind!r}; known: {', '.join(CONVS)}")


class PrimeGNN(nn.Module):
    """x → Linear → [h + act(conv(h))]×layers → Linear → δ̂ (one scalar per node).

    With `base_column` (the `*-residual` variants) the output is x[:, base_column] + the
    read-out: the explicit-formula estimate plus a learned correction. The read-out then
    starts at zero, so an untrained residual model predicts exactly the estimate and
    training measures what learning adds on top of the physics.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: int = 64,
        layers: int = 3,
        conv: str = "graphconv",
        base_column: int | None = None,
    ):
        super().__init__()
        if base_column is not None and not 0 <= base_column < in_dim:
            raise ValueError(f"base_column {base_column} is not a column of {in_dim} features")
        self.conv_kind = conv
        self.base_column = base_column
        self.inp = nn.Linear(in_dim, hidden)
        self.convs = nn.ModuleList(_make_conv(conv, hidden) for _ in range(layers))
        self.act = nn.GELU()
        self.out = nn.Linear(hidden, 1)
        if base_column is not None:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def correction(self, x: torch.Tensor, adj_t: torch.Tensor) -> torch.Tensor:
        """The learned part of the output (all of it for a non-residual model)."""
        h = self.act(self.inp(x))
        for conv in self.convs:
            h = h + self.act(conv(h, adj_t))
        return self.out(h).squeeze(-1)

    def forward(self, x: torch.Tensor, adj_t: torch.Tensor) -> torch.Tensor:
        out = self.correction(x, adj_t)
        if self.base_column is not None:
            out = x[:, self.base_column] + out
        return out


class PrimeMLP(nn.Module):
    """PrimeGNN without the graph: each conv replaced by a Linear on the node's own state.

    The information-matched `mlp` baseline: same features, width, depth, activation and
    residual read-out as the GNN, so GNN − MLP is what message passing adds.
    """

    def __init__(
        self, in_dim: int, hidden: int = 64, layers: int = 3, base_column: int | None = None
    ):
        super().__init__()
        self.base_column = base_column
        self.inp = nn.Linear(in_dim, hidden)
        self.lins = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.act = nn.GELU()
        self.out = nn.Linear(hidden, 1)
        if base_column is not None:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(x))
        for lin in self.lins:
            h = h + self.act(lin(h))
        out = self.out(h).squeeze(-1)
        if self.base_column is not None:
            out = x[:, self.base_column] + out
        return out


def normalized_adjacency(
    num_nodes: int, src: np.ndarray, dst: np.ndarray, conv: str, device: torch.device
) -> torch.Tensor:
    """Sparse CSR adjacency (symmetric edges given once as src<dst), normalised for `conv`."""
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    if conv == "gcn":
        loops = np.arange(num_nodes, dtype=np.int64)
        rows = np.concatenate([rows, loops])
        cols = np.concatenate([cols, loops])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    deg = np.bincount(rows, minlength=num_nodes).astype(np.float64)
    safe = np.maximum(deg, 1.0)
    if conv == "gcn":
        vals = 1.0 / np.sqrt(safe[rows] * safe[cols])
    else:
        vals = 1.0 / safe[rows]
    crow = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(deg.astype(np.int64), out=crow[1:])
    return torch.sparse_csr_tensor(
        torch.from_numpy(crow),
        torch.from_numpy(cols.astype(np.int64)),
        torch.from_numpy(vals.astype(np.float32)),
        size=(num_nodes, num_nodes),
    ).to(device)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

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


class _SparseSum(torch.autograd.Function):
    """adj @ x whose backward multiplies by the transpose built once with the adjacency:
    torch.sparse.mm would transpose (sort) the CSR matrix again at every backward pass, 13 %
    of a full-batch step at N = 10^4."""

    @staticmethod
    def forward(ctx, adj: torch.Tensor, adj_transposed: torch.Tensor, x: torch.Tensor):
        ctx.adj_transposed = adj_transposed
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, torch.sparse.mm(ctx.adj_transposed, grad)


def aggregate(adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ over neighbours with the pre-normalised adjacency (normalized_adjacency)."""
    transposed = getattr(adj_t, "transposed", None)
    if transposed is None or not (torch.is_grad_enabled() and x.requires_grad):
        return torch.sparse.mm(adj_t, x)
    return _SparseSum.apply(adj_t, transposed, x)


# PyG's convolutions with their aggregation routed through `aggregate`; parameters, their
# initialisation and the update of each layer stay PyG's own.
class _GraphConv(GraphConv):
    def message_and_aggregate(self, edge_index, x, edge_weight):
        return aggregate(edge_index, x[0])


class _SAGEConv(SAGEConv):
    def message_and_aggregate(self, adj_t, x):
        return aggregate(adj_t, x[0])


class _GCNConv(GCNConv):
    def message_and_aggregate(self, adj_t, x):
        return aggregate(adj_t, x)


def _conv_rows(
    conv: nn.Module, h: torch.Tensor, adj_t: torch.Tensor, rows: torch.Tensor
) -> torch.Tensor:
    """conv(h, adj_t)[rows], with the layer's linear maps applied to those rows only (the
    aggregation itself is a cheap sparse product over the whole graph). GraphConv is
    lin_rel(Σ neighbours) + lin_root(h) and SAGEConv lin_l(Σ) + lin_r(h), as in PyG; GCNConv
    transforms before it aggregates, so it runs whole."""
    if isinstance(conv, _GraphConv):
        return conv.lin_rel(aggregate(adj_t, h)[rows]) + conv.lin_root(h[rows])
    if isinstance(conv, _SAGEConv):
        return conv.lin_l(aggregate(adj_t, h)[rows]) + conv.lin_r(h[rows])
    return conv(h, adj_t)[rows]


def _make_conv(kind: str, hidden: int) -> nn.Module:
    # Aggregation is a plain sum over the pre-normalised adjacency (mean for graphconv/sage,
    # symmetric with self loops for gcn): the one reduction torch.sparse.mm differentiates
    # on CPU and CUDA alike without torch-sparse.
    if kind == "graphconv":
        return _GraphConv(hidden, hidden, aggr="add")
    if kind == "sage":
        return _SAGEConv(hidden, hidden, aggr="sum")
    if kind == "gcn":
        return _GCNConv(hidden, hidden, normalize=False, add_self_loops=False)
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

    def correction(
        self, x: torch.Tensor, adj_t: torch.Tensor, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The learned part of the output (all of it for a non-residual model)."""
        h = self.act(self.inp(x))
        for conv in self.convs[:-1]:
            h = h + self.act(conv(h, adj_t))
        last = self.convs[-1]
        if rows is None:
            h = h + self.act(last(h, adj_t))
        else:
            h = h[rows] + self.act(_conv_rows(last, h, adj_t, rows))
        return self.out(h).squeeze(-1)

    def forward(
        self, x: torch.Tensor, adj_t: torch.Tensor, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """δ̂ of every node, or of `rows` only: a training step needs the outputs of its hidden
        nodes alone, so the last layer and the read-out run on those rows (the same numbers as
        the whole output's rows; the earlier layers still run on the whole graph)."""
        out = self.correction(x, adj_t, rows)
        if self.base_column is not None:
            out = (x[:, self.base_column] if rows is None else x[rows, self.base_column]) + out
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
    adj = _csr(num_nodes, rows, cols, vals, device)
    # The transpose, for the backward pass of `aggregate` (rows and columns swapped, re-sorted).
    order_t = np.lexsort((rows, cols))
    adj.transposed = _csr(num_nodes, cols[order_t], rows[order_t], vals[order_t], device)
    return adj


def _csr(
    num_nodes: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, device: torch.device
) -> torch.Tensor:
    """A float32 CSR matrix from (row, col, value) triples sorted by row, then column."""
    crow = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num_nodes), out=crow[1:])
    return torch.sparse_csr_tensor(
        torch.from_numpy(crow),
        torch.from_numpy(cols.astype(np.int64)),
        torch.from_numpy(vals.astype(np.float32)),
        size=(num_nodes, num_nodes),
    ).to(device)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

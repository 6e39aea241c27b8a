"""The GNN's faster paths compute exactly what PyG's own would: the transpose kept for the
backward pass, and the last layer run on the rows a training step reads."""

import pytest
import torch

from zetalab.learning.graph import build_graph
from zetalab.learning.models import CONVS, PrimeGNN, normalized_adjacency

NODES = 300


@pytest.fixture(scope="module")
def graph():
    return build_graph(NODES, [2, 3, 5, 7])


def _model(conv, residual):
    torch.manual_seed(0)
    model = PrimeGNN(6, hidden=8, layers=3, conv=conv, base_column=3 if residual else None)
    torch.nn.init.normal_(model.out.weight)  # a residual model starts at zero otherwise
    return model


@pytest.mark.parametrize("conv", CONVS)
def test_the_kept_transpose_is_the_adjacencys(graph, conv):
    adj = normalized_adjacency(NODES, graph.src, graph.dst, conv, torch.device("cpu"))
    torch.testing.assert_close(adj.transposed.to_dense(), adj.to_dense().t())


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("conv", CONVS)
def test_rows_and_gradients_match_the_whole_graphs(graph, conv, residual):
    """Outputs on `rows` equal those rows of the whole output, and the gradients of a loss on
    them equal those of a dense adjacency (torch's own backward)."""
    adj = normalized_adjacency(NODES, graph.src, graph.dst, conv, torch.device("cpu"))
    x = torch.randn(NODES, 6, generator=torch.Generator().manual_seed(1))
    rows = torch.tensor([0, 5, 17, 150, 299])
    model = _model(conv, residual)
    part = model(x, adj, rows)
    torch.testing.assert_close(part, model(x, adj)[rows], rtol=1e-6, atol=1e-6)
    part.square().sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x, adj.to_dense().to_sparse_csr())[rows].square().sum().backward()
    for ours, theirs in zip(grads, (p.grad for p in model.parameters()), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)

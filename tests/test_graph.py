"""Prime graph and partitions: the edge-count formula, coverage, and refusals of bad input."""

import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.learning.graph import (
    build_graph,
    expected_edge_count,
    first_primes,
    graph_stats,
    load_graph,
    primes_tag,
    save_graph,
    validate_primes,
)
from zetalab.learning.partition import (
    load_partition,
    partition_graph,
    partition_stats,
    read_partition_meta,
    save_partition,
)


@pytest.mark.parametrize(
    ("num_nodes", "primes"),
    [(1, [2]), (2, [2]), (3, [2]), (100, [2, 3, 5]), (10, [11, 13]), (1000, [2, 3, 5, 7, 11, 13])],
)
def test_edge_count_matches_formula(num_nodes, primes):
    graph = build_graph(num_nodes, primes)
    # Hand count of the formula Σ_p max(M − p, 0).
    assert graph.num_edges == sum(max(num_nodes - p, 0) for p in primes)
    assert graph.num_edges == expected_edge_count(num_nodes, primes)


def test_edges_are_exactly_the_prime_offsets():
    graph = build_graph(50, [2, 3, 7])
    pairs = set(zip(graph.src.tolist(), graph.dst.tolist(), strict=True))
    expected = {(i, i + p) for p in (2, 3, 7) for i in range(50 - p)}
    assert pairs == expected
    assert len(pairs) == graph.num_edges  # no duplicates
    indptr, indices = graph.csr()
    # Node 10 (0-based) has neighbours 10 ± {2, 3, 7}.
    assert sorted(indices[indptr[10] : indptr[11]].tolist()) == [3, 7, 8, 12, 13, 17]


def test_graph_roundtrip_and_stats(tmp_path):
    graph = build_graph(300, [2, 3, 5])
    save_graph(tmp_path / "graph.npz", graph)
    loaded = load_graph(tmp_path / "graph.npz")
    assert np.array_equal(loaded.src, graph.src) and loaded.primes == (2, 3, 5)
    stats = graph_stats(graph)
    assert stats["edge_formula_ok"] and stats["degree_max"] == 6 and stats["degree_min"] == 3


@pytest.mark.parametrize(
    ("primes", "word"),
    [([2, 4], "not prime"), ([1], "not prime"), ([2, 3, 3], "more than once"), ([], "empty")],
)
def test_bad_primes_are_refused(primes, word):
    with pytest.raises(ZetalabError, match=word):
        validate_primes(primes)


def test_prime_helpers():
    assert first_primes(6) == [2, 3, 5, 7, 11, 13]
    assert primes_tag([13, 2, 3]) == "2-3-13"


@pytest.mark.parametrize("method", ["metis", "contiguous"])
def test_every_node_in_exactly_one_partition(method, tmp_path):
    graph = build_graph(2000, [2, 3, 5, 7, 11, 13])
    part = partition_graph(graph, method, 16)
    assert part.parts.shape == (2000,)
    assert set(np.unique(part.parts).tolist()) == set(range(16))
    members = part.members()
    flat = np.concatenate(members)
    assert len(flat) == 2000 and np.array_equal(np.sort(flat), np.arange(2000))
    stats = partition_stats(graph, part)
    cut = sum(part.parts[s] != part.parts[d] for s, d in zip(graph.src, graph.dst, strict=True))
    assert stats["edge_cut"] == cut
    assert 1.0 <= stats["balance"] < 1.1
    save_partition(tmp_path / "p.npz", part, graph.primes)
    assert read_partition_meta(tmp_path / "p.npz") == (method, 16, 2000, (2, 3, 5, 7, 11, 13))
    assert np.array_equal(load_partition(tmp_path / "p.npz").parts, part.parts)


def test_metis_cut_is_small_on_a_band_graph():
    # The band graph of width 13 has a natural cut of Σ_p p = 41 edges per boundary; METIS
    # must find a partition of that quality, not a random one (which would cut ~15/16 of edges).
    graph = build_graph(4000, [2, 3, 5, 7, 11, 13])
    stats = partition_stats(graph, partition_graph(graph, "metis", 10))
    assert stats["edge_cut"] <= 9 * 41 * 1.5


def test_more_partitions_than_nodes_is_refused():
    graph = build_graph(20, [2, 3])
    with pytest.raises(ZetalabError, match="num_parts = 21 but the graph has 20 nodes"):
        partition_graph(graph, "metis", 21)

"""Issue 12: an objective with no unconstrained output, the residual form, the graph-free
learners on the GNN's own features, Cluster-GCN inference on the full graph, and the config
errors raised while the workflow is planned."""

import json

import numpy as np
import pytest
import torch

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.baselines import hidden_node_features, observed_view
from zetalab.learning.batches import hidden_mask, whole_graph_batch
from zetalab.learning.dataset import zero_data
from zetalab.learning.explicit import explicit_estimate
from zetalab.learning.loop import RunPaths, Trainer
from zetalab.learning.losses import blend
from zetalab.learning.models import PrimeGNN, normalized_adjacency
from zetalab.learning.problem import build_problem
from zetalab.learning.runconfig import resolve_run_config

N, H = 1500, 30
SMALL = {
    "dataset": {"N": N, "horizon": H},
    "graph": {"primes": [2, 3, 5, 7], "partition": {"method": "metis", "num_parts": 8}},
    "model": {
        "hidden": 32,
        "layers": 2,
        "wave_primes": 40,
        "estimate": {"num_primes": 300, "taper": 0.5},
    },
    "train": {
        "max_epochs": 25,
        "patience": None,
        "checkpoint_every": 25,
        "clusters_per_step": 2,
        "device": "cpu",
    },
    "loss": {"rg_max_lag": 16, "mmd_max_samples": 256, "mmd_reference_size": 128},
}
VARIANTS = {
    "fullbatch-residual": {"kind": "fullbatch", "model": {"residual": True}},
    "minibatch-residual": {"kind": "minibatch", "loss": {"w_rg": 0.0}, "model": {"residual": True}},
}


@pytest.fixture(scope="module")
def zeros(odlyzko):
    return zero_data(odlyzko[: N + 2 * H])


def small(variant, **sections):
    base = load_config()
    base["train"]["variants"].update(VARIANTS)
    overrides = json.loads(json.dumps(SMALL))
    for section, values in sections.items():
        overrides.setdefault(section, {}).update(values)
    return resolve_run_config(base, overrides, variant)


def trainer(config, zeros, tmp_path, seed=0):
    torch.set_num_threads(1)
    problem = build_problem(config, zeros)
    paths = RunPaths(tmp_path / "metrics.json", tmp_path / "history.csv", tmp_path / "p.npz")
    return Trainer(config, problem, seed, paths)


def test_residual_output_is_the_base_estimate_plus_the_correction():
    torch.manual_seed(0)
    x = torch.randn(50, 7)
    src = np.arange(0, 48)
    adj = normalized_adjacency(50, src, src + 2, "graphconv", torch.device("cpu"))
    model = PrimeGNN(7, hidden=8, layers=2, base_column=3)
    torch.nn.init.normal_(model.out.weight)  # a trained read-out: the correction is not 0
    correction = model.correction(x, adj)
    assert torch.count_nonzero(correction) == 50
    torch.testing.assert_close(model(x, adj), x[:, 3] + correction, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not a column"):
        PrimeGNN(7, base_column=7)


def test_an_untrained_residual_variant_predicts_the_explicit_formula(zeros, tmp_path):
    """The read-out starts at zero, so before training the model is exactly its base."""
    t = trainer(small("fullbatch-residual"), zeros, tmp_path)
    col = t.problem.features.estimate_column
    estimate = explicit_estimate(np.arange(1, N + 2 * H + 1), 300, 0.5)
    np.testing.assert_allclose(t.problem.static[:, col - 2], estimate, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t.predict(), t.problem.static[:, col - 2].astype(np.float64))


@pytest.mark.parametrize("variant", ["fullbatch", "minibatch"])
def test_linear_and_mlp_see_the_gnns_features(variant, zeros, tmp_path):
    """Shape and values: the GNN's input of a hidden node is the graph-free learners' row."""
    config = small(variant)
    t = trainer(config, zeros, tmp_path)
    nothing_observed = torch.zeros(t.problem.total, dtype=torch.bool)
    gnn = t._features(nothing_observed, t.eval_batches[0]).clone().numpy()
    observed = observed_view(t.problem.data, t.problem.splits)
    theirs = hidden_node_features(observed, t.problem.features)
    assert gnn.shape == theirs.shape == (N + 2 * H, 2 + 1 + 1 + 2 * 40)
    np.testing.assert_array_equal(gnn, theirs)


def test_cluster_gcn_predicts_on_the_full_graph(zeros, tmp_path):
    """Mini-batch trains on clusters; its prediction is full-graph inference (no edge cut)."""
    t = trainer(small("minibatch", train={"max_epochs": 2}), zeros, tmp_path)
    t.run("test")
    p = t.problem
    adj = normalized_adjacency(p.total, p.graph.src, p.graph.dst, "graphconv", t.device)
    features = t._features(torch.as_tensor(p.observable), t.eval_batches[0]).clone()
    with torch.no_grad():
        full = t.model(features, adj).double().numpy()
    np.testing.assert_array_equal(t.predict(), full)
    # And the clusters really cut edges, so cluster-wise inference would differ.
    assert len(t._cluster_batches(None)) > 1
    assert whole_graph_batch(p.graph, p.N, "graphconv", t.device).size == p.total


def test_masks_are_shaped_like_the_task():
    """A tail block ending at N, spans of the horizon's length, scattered nodes; never more."""
    observable = np.zeros(1000 + 2 * 20, dtype=bool)
    observable[:1000] = True
    hidden = hidden_mask(np.random.default_rng(0), observable, 1000, 0.0, 4, 20)
    assert hidden[980:1000].all() and not hidden[1000:].any()
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, hidden.astype(int), 0])).reshape(-1, 2))
    assert runs.min() >= 20 and hidden.sum() <= 4 * 20
    scattered = hidden_mask(np.random.default_rng(0), observable, 1000, 0.15, 0, 20)
    assert 100 < scattered.sum() < 200


def test_the_seam_between_observed_and_hidden_nodes_is_trained(zeros, tmp_path):
    """On a trained small run (plain full-batch, all four losses), hide spans of the horizon's
    length inside the train range, as the task does, and read x̃: the spacings across
    observed→hidden and hidden→observed boundaries each average 1 ± 0.05 and their RMSE
    against the true spacings is at most 1.2 × that of spacings inside the hidden spans."""
    t = trainer(small("fullbatch"), zeros, tmp_path)
    t.run("test")
    p, whole = t.problem, t.eval_batches[0]
    i = np.arange(p.N - 1)
    s_true = 1 + p.data.delta[i + 1] - p.data.delta[i]
    s_pred, into, out_of, inside = [], [], [], []
    for seed in range(8):  # eight masks of twelve spans each, pooled
        hidden = hidden_mask(np.random.default_rng(seed), p.observable, p.N, 0.0, 12, H)
        observed = p.observable & ~hidden
        with torch.no_grad():
            pred = t.model(t._features(torch.as_tensor(observed), whole), whole.adj)
        delta = torch.as_tensor(p.data.delta)
        x = blend(pred.double(), delta, torch.as_tensor(observed)).numpy()
        s_pred.append(1 + x[i + 1] - x[i])
        both_known = (observed | hidden)[i] & (observed | hidden)[i + 1]
        into.append(both_known & observed[i] & hidden[i + 1])
        out_of.append(both_known & hidden[i] & observed[i + 1])
        inside.append(hidden[i] & hidden[i + 1])
    s_pred, s_true = np.concatenate(s_pred), np.tile(s_true, 8)
    into, out_of, inside = map(np.concatenate, (into, out_of, inside))
    assert into.sum() >= 40 and out_of.sum() >= 40 and inside.sum() > 2000

    def rmse(sel):
        return float(np.sqrt(np.mean((s_pred[sel] - s_true[sel]) ** 2)))

    for seam in (into, out_of):
        assert abs(s_pred[seam].mean() - 1) <= 0.05
        assert rmse(seam) <= 1.2 * rmse(inside)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"model": {"wave_primes": 9593}}, "model.wave_primes = 9593 .* the limit is 9,592"),
        (
            {"model": {"estimate": {"num_primes": 20_000_000}}},
            "model.estimate.num_primes = 20000000",
        ),
        ({"train": {"patience": 30, "max_epochs": 20}}, "train.patience = 30 must lie between"),
        ({"model": {"wave_primes": [2, 100003]}}, "beyond the cap 100,000"),
        ({"model": {"residual": True, "estimate": {"num_primes": 0}}}, "model.residual is true"),
        ({"train": {"mask": {"block_length": 1600}}}, "hidden spans of 1600 nodes"),
        ({"dataset": {"horizon": 2000}}, r"\(dataset.horizon\) are longer than the 1500"),
    ],
)
def test_bad_settings_are_config_errors_when_the_run_config_resolves(sections, message):
    """resolve_run_config runs for every run config while the workflow is planned."""
    with pytest.raises(ZetalabError, match=message):
        small("fullbatch", **sections)


def test_a_bad_setting_stops_the_workflow_before_any_job(tmp_path):
    """While Snakemake plans (dry run), a residual model without its estimate is refused."""
    from conftest import run_snakemake, tiny_config

    bad = tiny_config({"model": {"residual": True, "estimate": {"num_primes": 0}}})
    (tmp_path / "bad.yaml").write_text(json.dumps(bad))
    proc = run_snakemake(tmp_path, "--configfile", str(tmp_path / "bad.yaml"), "-n", check=False)
    assert proc.returncode != 0
    assert "model.residual is true but model.estimate.num_primes = 0" in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("primes", "hops"), [([2, 3, 5, 7, 11, 13], (8, 16)), ([2, 3, 5, 7, 11, 13, 67], (2, 3))]
)
def test_hops_from_the_holdout_to_the_nearest_observed_node(primes, hops):
    """docs/learning.md: node N + k is ⌈k / max(p)⌉ hops from the nodes 1..N (BFS on the
    real graph, N = 10,000, H = 100): 8–16 for the default primes, beyond 3 layers; adding
    67 brings every holdout node within 3 hops."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    from zetalab.learning.graph import build_graph

    n_train, horizon = 10_000, 100
    graph = build_graph(n_train + 2 * horizon, primes)
    m = graph.num_nodes + 1  # one extra node joined to every train node: the observed set
    src = np.r_[graph.src, np.full(n_train, m - 1)]
    dst = np.r_[graph.dst, np.arange(n_train)]
    adj = coo_matrix((np.ones(len(src)), (src, dst)), shape=(m, m))
    dist = shortest_path(adj, directed=False, unweighted=True, indices=m - 1) - 1
    holdout = dist[n_train + horizon : n_train + 2 * horizon]
    assert (holdout.min(), holdout.max()) == hops
    k = np.arange(1, 2 * horizon + 1)
    np.testing.assert_array_equal(dist[n_train:-1], np.ceil(k / max(primes)))

"""End to end through Snakemake: graph_build, graph_partition, run_config and train on a tiny
config, with a zeros aggregate placed where the zero stage would write it (the zero stage has
its own tests; --allowed-rules keeps this test to the learning rules)."""

import json

import pytest
import yaml
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.slow

# The tiny configuration (.test/config/config.yaml) with 400 train zeros, 3 epochs, 1 seed.
TINY = tiny_config({"dataset": {"N": 400}, "train": {"max_epochs": 3, "seeds": [0]}})
N, H = TINY["dataset"]["N"], TINY["dataset"]["horizon"]
RULES = ["graph_build", "graph_partition", "run_config", "explicit_formula", "train"]


def _place_zeros(odlyzko, workdir, total):
    from zetalab.zeros.store import aggregate, write_chunk

    root = workdir / "data" / "zeros" / "rs"
    chunk = root / "chunk_test.npy"
    write_chunk(chunk, odlyzko[:total], 1, {"backend": "file"})
    aggregate([chunk], root / f"zeros_{total}.npy", total)


def test_graph_and_train_rules_end_to_end(odlyzko, tmp_path):
    pytest.importorskip("zetalab.zeros.store")
    total = N + 2 * H
    _place_zeros(odlyzko, tmp_path, total)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    runs = [f"results/runs/ab/{v}/seed0/metrics.json" for v in ("fullbatch", "minibatch")]
    args = ["--configfile", str(tmp_path / "tiny.yaml"), "--allowed-rules", *RULES]
    dry = run_snakemake(tmp_path, *args, "-n", *runs)
    assert "cfg=ab, variant=minibatch, seed=0" in dry.stdout
    run_snakemake(tmp_path, *args, "--cores", "2", *runs)

    graph_dir = tmp_path / f"results/graphs/n{total}_p2-3-5"
    stats = json.loads((graph_dir / "graph.json").read_text())
    assert stats["edges"] == 3 * total - 10 and stats["edge_formula_ok"]
    part = json.loads((graph_dir / "partition_metis4.json").read_text())
    assert part["num_parts"] == 4 and part["edge_cut"] > 0
    for variant in ("fullbatch", "minibatch"):
        run = tmp_path / f"results/runs/ab/{variant}/seed0"
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["status"] == "completed" and metrics["epochs_run"] == 3
        assert metrics["N"] == N and metrics["variant"] == variant
        assert (run / "predictions.npz").exists()
        assert len((run / "history.csv").read_text().splitlines()) == 4
        assert "epoch 3/3" in (tmp_path / f"logs/train/ab/{variant}/seed0.log").read_text()


def test_bad_graph_config_fails_before_any_job(tmp_path):
    for bad, message in [
        ({"graph": {"primes": [2, 4]}}, "4, which is not prime"),
        (
            {"dataset": {"N": 100, "horizon": 5}, "graph": {"partition": {"num_parts": 200}}},
            "num_parts = 200 but the graph has 110 nodes",
        ),
        (
            # the A/B names must be variants (a config error of its own), so they name it
            {
                "train": {"variants": {"minibatch": {"kind": "minibatch"}}},
                "ab": {"team1": "minibatch", "team2": "minibatch", "ablation": "minibatch"},
            },
            "minibatch but loss.w_rg = 0.1",
        ),
    ]:
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
        proc = run_snakemake(
            tmp_path, "--configfile", str(tmp_path / "bad.yaml"), "-n", check=False
        )
        assert proc.returncode != 0
        assert message in proc.stdout + proc.stderr
        assert not (tmp_path / "results").exists()

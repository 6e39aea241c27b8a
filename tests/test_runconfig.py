"""Run-config resolution: overrides, references to other outputs, variants, refusals."""

import json

import pytest

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.learning.runconfig import MissingReferenceError, resolve_run_config, run_overrides


@pytest.fixture()
def base():
    return load_config()


def test_no_overrides_gives_the_main_config_plus_variant(base):
    cfg = resolve_run_config(base, {}, "fullbatch")
    assert cfg["run"] == {"variant": "fullbatch", "kind": "fullbatch"}
    assert cfg["loss"]["w_rg"] == 0.1 and cfg["dataset"]["N"] == base["dataset"]["N"]
    norg = resolve_run_config(base, {}, "fullbatch-norg")
    assert norg["loss"]["w_rg"] == 0.0 and norg["run"]["kind"] == "fullbatch"
    mini = resolve_run_config(base, {}, "minibatch")
    assert mini["run"]["kind"] == "minibatch" and mini["loss"]["w_rg"] == 0.0


def test_overrides_deep_merge_and_fill_defaults(base):
    cfg = resolve_run_config(
        base,
        {"cfg": "x", "overrides": {"train": {"lr": 0.005}, "graph": {"primes": [2, 3]}}},
        "fullbatch",
    )
    assert cfg["train"]["lr"] == 0.005
    assert cfg["train"]["max_epochs"] == base["train"]["max_epochs"]  # untouched keys stay
    assert cfg["graph"]["primes"] == [2, 3]
    assert cfg["graph"]["partition"]["num_parts"] == base["graph"]["partition"]["num_parts"]
    assert "lr" not in base["train"] or base["train"]["lr"] != 0.005  # base not mutated


def test_references_are_resolved_from_json(base, tmp_path):
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"config": {"graph": {"primes": [2, 3, 5, 7]}, "lr": 3e-4}}))
    overrides = {
        "graph": {"primes": {"$from": str(best), "key": "config.graph.primes"}},
        "train": {"lr": {"$from": str(best), "key": "config.lr"}},
    }
    cfg = resolve_run_config(base, overrides, "minibatch")
    assert cfg["graph"]["primes"] == [2, 3, 5, 7] and cfg["train"]["lr"] == 3e-4


def test_missing_reference_file_or_key_names_both(base, tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(MissingReferenceError, match=r"nope\.json.*config\.lr"):
        resolve_run_config(
            base, {"train": {"lr": {"$from": str(missing), "key": "config.lr"}}}, "fullbatch"
        )
    present = tmp_path / "best.json"
    present.write_text(json.dumps({"config": {}}))
    with pytest.raises(ZetalabError, match=r"best\.json has no key 'config\.lr'"):
        resolve_run_config(
            base, {"train": {"lr": {"$from": str(present), "key": "config.lr"}}}, "fullbatch"
        )


def test_minibatch_with_rg_penalty_is_refused(base):
    with pytest.raises(ZetalabError, match=r"minibatch but loss\.w_rg = 0\.3"):
        resolve_run_config(
            base,
            {"train": {"variants": {"minibatch": {"kind": "minibatch", "loss": {"w_rg": 0.3}}}}},
            "minibatch",
        )


def test_bad_sections_values_and_variants_are_refused(base):
    with pytest.raises(ZetalabError, match="unknown section"):
        run_overrides({"zeros": {"backend": "rs"}})
    with pytest.raises(ZetalabError, match=r"train\.lr"):
        resolve_run_config(base, {"train": {"lr": -1}}, "fullbatch")
    with pytest.raises(ZetalabError, match="unknown variant 'turbo'"):
        resolve_run_config(base, {}, "turbo")

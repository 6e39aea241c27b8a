"""Config validation: defaults from the schema, and errors that name the key and the fix."""

import pytest

from zetalab.config import deep_merge, load_config, validate_config
from zetalab.errors import ZetalabError


def test_empty_config_gets_schema_defaults():
    config = validate_config({})
    assert config["zeros"]["backend"] == "rs"
    assert config["dataset"]["N"] == 10000
    assert config["graph"]["primes"] == [2, 3, 5, 7, 11, 13]


def test_shipped_config_is_valid():
    config = load_config()
    assert config["dataset"]["horizon"] >= 1


def test_unknown_backend_names_key_and_allowed_values():
    with pytest.raises(ZetalabError) as info:
        validate_config({"zeros": {"backend": "gpu"}})
    message = str(info.value)
    assert "zeros.backend" in message
    assert "'gpu'" in message
    for allowed in ("'rs'", "'flint'", "'mpmath'", "'file'"):
        assert allowed in message


def test_unknown_key_lists_known_keys():
    with pytest.raises(ZetalabError, match=r"known keys here: .*chunk_size"):
        validate_config({"zeros": {"chunk": 10}})


def test_every_error_is_reported_at_once():
    with pytest.raises(ZetalabError) as info:
        validate_config({"zeros": {"chunk_size": 0}, "dataset": {"horizon": 0}})
    assert "zeros.chunk_size" in str(info.value)
    assert "dataset.horizon" in str(info.value)


def test_invalid_yaml_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("zeros: [unclosed\n")
    with pytest.raises(ZetalabError, match="not valid YAML"):
        load_config(path)


def test_deep_merge_keeps_siblings():
    merged = deep_merge({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}})
    assert merged == {"a": {"x": 1, "y": 3}}


def test_allowed_values_in_code_are_the_schemas():
    """Code that dispatches on a setting knows exactly the values the schema allows."""
    from zetalab.config import schema_enum
    from zetalab.evaluation.baselines import BASELINES
    from zetalab.learning.models import CONVS
    from zetalab.learning.partition import METHODS
    from zetalab.zeros.engine import BACKENDS

    assert set(CONVS) == set(schema_enum("model", "conv"))
    assert (
        set(METHODS) == set(schema_enum("graph", "partition", "method")) == {"metis", "contiguous"}
    )
    assert set(BACKENDS) == set(schema_enum("zeros", "backend"))
    assert set(BASELINES) == set(schema_enum("baselines", "names", "[]"))


@pytest.mark.parametrize("key", ["team1", "team2", "ablation"])
def test_ab_teams_must_name_trained_variants(key, tmp_path):
    with pytest.raises(ZetalabError, match=rf"ab.{key} = 'fullbach' names no variant") as err:
        load_config(overrides={"ab": {key: "fullbach"}})
    assert "fullbatch, fullbatch-norg, fullbatch-residual, minibatch" in str(err.value)
    # A config file with only the schema's defaults, so the variants below replace them.
    (tmp_path / "empty.yaml").write_text("{}\n")
    renamed = {"train": {"variants": {"fb": {"kind": "fullbatch"}}}}
    with pytest.raises(ZetalabError, match=r"ab\.team1 = 'fullbatch'"):
        load_config(tmp_path / "empty.yaml", overrides=renamed)
    ok = {"ab": {"team1": "fb", "team2": "fb", "ablation": "fb"}, **renamed}
    assert load_config(tmp_path / "empty.yaml", overrides=ok)["ab"]["team1"] == "fb"


def test_null_drops_a_variant_and_ab_cpu_trains_the_ab_variants_only():
    """Snakemake merges --configfile key by key, so `name: null` is how a study config drops
    a variant; config/ab_cpu.yaml uses it to train team1, team2 and the ablation only."""
    import yaml

    from zetalab.config import REPO_ROOT

    ab_cpu = yaml.safe_load((REPO_ROOT / "config" / "ab_cpu.yaml").read_text())
    config = load_config(overrides=ab_cpu)
    ab = config["ab"]
    assert set(config["train"]["variants"]) == {ab["team1"], ab["team2"], ab["ablation"]}
    assert len(config["train"]["seeds"]) >= 5 and config["evaluation"]["windows"] >= 3
    # Dropping a team's variant is still caught, naming the key.
    with pytest.raises(ZetalabError, match=r"ab\.team2 = 'minibatch' names no variant"):
        load_config(overrides={"train": {"variants": {"minibatch": None}}})

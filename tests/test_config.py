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

"""docs/config.md is generated from the schema; it must be regenerated when the schema changes."""

from zetalab.config_reference import render


def test_config_reference_is_current(repo):
    committed = (repo / "docs" / "config.md").read_text()
    assert committed == render(), "regenerate: python -m zetalab.config_reference > docs/config.md"


def test_reference_documents_nested_keys_and_defaults():
    text = render()
    assert '| `zeros.backend` | `rs`, `flint`, `mpmath`, `file` | `"rs"` |' in text
    assert "`graph.partition.num_parts`" in text

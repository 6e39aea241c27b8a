"""The evaluation protocol's config checks: found while planning, before any job."""

import pytest

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.protocol import verdict_files


@pytest.mark.parametrize("margin", [1.0, 0.9])
def test_margin_at_or_below_one_is_a_config_error(margin):
    with pytest.raises(ZetalabError, match=r"ab\.margin"):
        load_config(overrides={"ab": {"margin": margin}})
    assert load_config(overrides={"ab": {"margin": 1.05}})["ab"]["margin"] == 1.05


def test_default_config_runs_three_seeds_and_margin_1_10():
    config = load_config()
    assert config["train"]["seeds"] == [0, 1, 2] and config["ab"]["margin"] == 1.10


def test_a_verdict_on_fewer_than_two_seeds_is_refused():
    with pytest.raises(ZetalabError, match="needs at least 2 seeds"):
        verdict_files([0], ["a"])
    with pytest.raises(ZetalabError, match="needs at least 2 seeds"):
        verdict_files([3, 3], ["a"])
    assert verdict_files([0, 1], ["a", "b"]) == ["a", "b"]

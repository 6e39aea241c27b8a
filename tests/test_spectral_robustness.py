"""Study S robustness: autograd + adjoint, shooting divergence, NaN loss, checkpoints, infer."""

from __future__ import annotations

import pytest
import torch

import zetalab.spectral.train as train_module
from zetalab.errors import ZetalabError
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import synthetic_spectra
from zetalab.spectral.export import export_all
from zetalab.spectral.infer import main as infer_main
from zetalab.spectral.infer import parser as infer_parser
from zetalab.spectral.metric import ExponentialMetric
from zetalab.spectral.model import build_model
from zetalab.spectral.shooting import ShootingMonitor, missed_target, shoot
from zetalab.spectral.train import load_model, save_model, train

CPU = torch.device("cpu")
F64 = torch.float64
SMALL = {
    "data": {"n_wavelengths": 8},
    "train": {
        "epochs": 2,
        "wavelengths_per_epoch": None,
        "mega_batch": 80,
        "micro_batch": 40,
        "checkpoint_every": 1,
    },
}


def _small(**sections) -> SpectralConfig:
    return SpectralConfig.load(SMALL).replace(**sections)


@pytest.fixture(scope="module")
def small_data():
    cfg = _small()
    return synthetic_spectra(cfg.data, cfg.seed, CPU)


def test_autograd_christoffel_trains_with_the_adjoint(small_data):
    """Used to crash: 'differentiated Tensor ... appears to not have been used in the graph'."""
    torch.manual_seed(0)
    cfg = _small(solver={"christoffel": "autograd", "adjoint": True})
    out = train(cfg, small_data, CPU)
    losses = [h["loss"] for h in out.history]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    grads = [p.grad for p in out.model.metric.parameters() if p.grad is not None]
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)


def _curved():
    """Gamma = 2 over dc = 1: 6 rk4 steps overshoot (the issue's 3.5e6 miss)."""
    metric = ExponentialMetric(2.0)
    c_a = torch.tensor([0.0, 0.2], dtype=F64)
    c_b = torch.tensor([1.0, 1.2], dtype=F64)
    return metric, c_a, c_b, torch.zeros(2, dtype=torch.long)


def test_shooting_detects_divergence_and_refines_its_steps():
    metric, c_a, c_b, idx = _curved()
    coarse = shoot(metric, c_a, c_b, idx, newton_steps=3, steps=6)
    assert float(coarse.residual.abs().max()) > 1e3  # the failure this guards against
    fixed = shoot(metric, c_a, c_b, idx, newton_steps=3, steps=6, max_steps=96, tol=1e-6)
    assert int(fixed.steps.min()) > 6
    assert float(fixed.residual.abs().max()) < 1e-6
    torch.testing.assert_close(
        fixed.v0, metric.initial_velocity(c_a, c_b), rtol=2e-2, atol=0
    )  # the discrete map's v(0) tends to the exact one as the grid refines


def _mixed():
    """Two curved rows around one easier path that 6 rk4 steps solve to 1e-6."""
    metric, c_a, c_b, _ = _curved()
    c_a = torch.cat([c_a[:1], torch.tensor([0.5], dtype=F64), c_a[1:]])
    c_b = torch.cat([c_b[:1], torch.tensor([0.8], dtype=F64), c_b[1:]])
    return metric, c_a, c_b, torch.zeros(3, dtype=torch.long)


def test_only_the_rows_that_miss_are_refined_and_no_row_depends_on_its_batch():
    metric, c_a, c_b, idx = _mixed()
    kw = {"newton_steps": 3, "steps": 6, "max_steps": 96, "tol": 1e-6}
    both = shoot(metric, c_a, c_b, idx, **kw)
    assert both.steps[1] == 6 and int(both.steps[0]) > 6 and int(both.steps[2]) > 6
    for row in range(3):
        alone = shoot(metric, c_a[row : row + 1], c_b[row : row + 1], idx[:1], **kw)
        assert alone.steps.tolist() == [int(both.steps[row])]
        torch.testing.assert_close(both.v0[row : row + 1], alone.v0, rtol=0, atol=0)
    assert float(both.residual.abs().max()) < 1e-6


class _PerWavelengthExponential(torch.nn.Module):
    """g = exp(2 a[lambda] c): the curvature depends on the row's wavelength."""

    def __init__(self, rates: list[float]):
        super().__init__()
        self.rates = torch.tensor(rates, dtype=F64)

    def forward(self, c: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return torch.exp(2.0 * self.rates[idx] * c)


def test_a_refined_row_keeps_its_own_wavelength():
    """The rows solved again are solved with their own wavelengths' metric, not their
    neighbours': an easy wavelength first, then two curved ones of different curvature."""
    metric = _PerWavelengthExponential([0.1, 2.0, 3.0])
    c_a = torch.tensor([0.0, 0.0, 0.2], dtype=F64)
    c_b = torch.tensor([1.0, 1.0, 1.0], dtype=F64)
    idx = torch.tensor([0, 1, 2])
    kw = {"newton_steps": 3, "steps": 6, "max_steps": 96, "tol": 1e-6}
    both = shoot(metric, c_a, c_b, idx, **kw)
    assert both.steps[0] == 6 and int(both.steps[1]) > 6 and int(both.steps[2]) > 6
    for row in range(3):
        alone = shoot(metric, c_a[row : row + 1], c_b[row : row + 1], idx[row : row + 1], **kw)
        torch.testing.assert_close(both.v0[row : row + 1], alone.v0, rtol=0, atol=0)


def test_a_nan_or_infinite_endpoint_counts_as_a_miss():
    c1 = torch.tensor([float("nan"), float("inf"), 1.0, 0.5], dtype=F64)
    assert missed_target(c1, torch.full_like(c1, 0.5), 1e-4).tolist() == [True, True, True, False]


def test_the_coupled_ode_follows_each_row_on_its_own_grid():
    """A row's prediction is the same in a batch with curved paths as alone (grouped solves
    put back in row order)."""
    cfg = _small(dtype="float64", shooting={"steps": 6, "max_steps": 96, "tol": 1e-6})
    model = build_model(cfg, 1, CPU)
    metric, c_a, c_b, idx = _mixed()
    model.metric = model.dynamics.metric = metric
    a_from = torch.tensor([0.3, 0.2, 0.4], dtype=F64)
    with torch.no_grad():
        batch, _ = model(c_a, c_b, a_from, idx)
        for row in range(3):
            alone, _ = model(c_a[row : row + 1], c_b[row : row + 1], a_from[row : row + 1], idx[:1])
            torch.testing.assert_close(batch[row : row + 1], alone, rtol=1e-12, atol=0)
    assert len(set(batch.tolist())) == 3


def test_shooting_that_still_misses_at_max_steps_is_reported(caplog):
    metric, c_a, c_b, idx = _curved()
    result = shoot(metric, c_a, c_b, idx, newton_steps=3, steps=6, max_steps=6)
    assert result.steps.tolist() == [6, 6]
    monitor = ShootingMonitor(1e-4)
    monitor.add(result.residual)
    with caplog.at_level("WARNING"):
        shots = monitor.flush("test")
    assert shots["missed"] == 2
    assert "missed c(1) = c_b" in caplog.text


def test_a_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(
    small_data, tmp_path, monkeypatch
):
    cfg = _small(train={"epochs": 4})
    real_step = train_module.optimiser_step
    calls = {"n": 0}
    steps_per_epoch = 3  # 8 wavelengths x 30 transitions / mega_batch 80

    def poisoned(*args, **kwargs):  # epoch 3 onwards: NaN
        loss = real_step(*args, **kwargs)
        calls["n"] += 1
        return loss * float("nan") if calls["n"] > 2 * steps_per_epoch else loss

    monkeypatch.setattr(train_module, "optimiser_step", poisoned)
    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(ZetalabError, match=r"loss became nan in epoch 3") as err:
        train(cfg, small_data, CPU, checkpoint=ckpt)
    assert "last good state" in str(err.value) and "lr_flow" in str(err.value)
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert all(h["loss"] == h["loss"] for h in state["history"])  # no NaN kept
    assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())


def test_checkpoints_and_models_load_with_weights_only(small_data, tmp_path):
    cfg = _small()
    ckpt = tmp_path / "checkpoint.pt"
    out = train(cfg, small_data, CPU, checkpoint=ckpt)
    state = torch.load(ckpt, weights_only=True)  # refuses anything but plain data and tensors
    assert state["epoch"] == 2 and "metric" in state["optimisers"]
    path = tmp_path / "model.pt"
    save_model(path, out, cfg, small_data)
    torch.load(path, weights_only=True)
    model, meta = load_model(path, CPU)
    assert meta["n_wavelengths"] == 8 and not model.training
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ZetalabError, match=r"(?s)model.pt is damaged .*--forcerun"):
        load_model(path, CPU)


@pytest.fixture(scope="module")
def exported(small_data, tmp_path_factory):
    out = train(_small(train={"epochs": 1}), small_data, CPU)
    ts = tmp_path_factory.mktemp("export") / "model.pt"
    export_all(out.model, small_data, ts, None, opset=18)
    return ts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--c-from", "0.3", "--c-to", "nan"], "--c-to is nan; give a finite concentration"),
        (["--c-from", "inf", "--c-to", "0.5"], "--c-from is inf"),
        (["--c-from", "0.3", "--c-to", "2.5"], "outside the training range [0.1, 1.1]"),
        (["--c-from", "0.05", "--c-to", "0.5"], "--c-from 0.05 is outside the training range"),
    ],
)
def test_infer_refuses_nan_and_out_of_range_concentrations(exported, capsys, args, message):
    assert infer_main([str(exported), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    if "--c-to 2.5" in " ".join(args):
        assert "--extrapolate" in err


def test_infer_extrapolates_only_when_asked_and_says_so(exported, capsys):
    assert infer_main([str(exported), "--c-from", "0.9", "--c-to", "1.3", "--extrapolate"]) == 0
    captured = capsys.readouterr()
    assert "extrapolating to c = 1.3" in captured.err
    assert len(captured.out.strip().splitlines()) == 1 + 8


def test_every_infer_option_has_help_text():
    for action in infer_parser()._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"


def test_a_refined_row_follows_its_own_wavelength_in_the_coupled_ode():
    """Per-wavelength metric and flow: each row's prediction in the batch equals its own alone."""
    cfg = _small(dtype="float64", shooting={"steps": 6, "max_steps": 96, "tol": 1e-6})
    model = build_model(cfg, 3, CPU)
    model.metric = model.dynamics.metric = _PerWavelengthExponential([0.1, 2.0, 3.0])
    c_a = torch.tensor([0.0, 0.0, 0.2], dtype=F64) + 0.1
    c_b = torch.tensor([1.0, 1.0, 1.0], dtype=F64) + 0.1
    idx = torch.tensor([0, 1, 2])
    a_from = torch.tensor([0.3, 0.2, 0.4], dtype=F64)
    with torch.no_grad():
        assert len(set(model.shoot(c_a, c_b, idx).steps.tolist())) > 1  # grids do differ
        batch, _ = model(c_a, c_b, a_from, idx)
        for row in range(3):
            one = slice(row, row + 1)
            alone, _ = model(c_a[one], c_b[one], a_from[one], idx[one])
            torch.testing.assert_close(batch[one], alone, rtol=1e-12, atol=0)

"""Study S model: data, training, resume, export, inference, bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnx
import pytest
import torch

from zetalab.errors import ZetalabError
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import (
    Spectra,
    load_spectra,
    non_monotonic_fraction,
    ordered_transitions,
    synthetic_spectra,
)
from zetalab.spectral.export import UnrolledSpectralModel, export_all
from zetalab.spectral.infer import main as infer_main
from zetalab.spectral.plan import held_out_indices, planned_held_out
from zetalab.spectral.scores import spectrum_scores
from zetalab.spectral.train import train
from zetalab.spectral.validate import evaluate_held_out

CPU = torch.device("cpu")

# A small but real configuration: 24 wavelengths, short training.
TINY = {
    "data": {"n_wavelengths": 24},
    "train": {
        "epochs": 6,
        "wavelengths_per_epoch": None,
        "mega_batch": 240,
        "micro_batch": 120,
        "checkpoint_every": 1,
    },
}


@pytest.fixture(scope="module")
def tiny_cfg() -> SpectralConfig:
    return SpectralConfig.load(TINY)


@pytest.fixture(scope="module")
def tiny_data(tiny_cfg) -> Spectra:
    return synthetic_spectra(tiny_cfg.data, tiny_cfg.seed, CPU)


@pytest.fixture(scope="module")
def trained(tiny_cfg, tiny_data):
    torch.set_num_threads(1)
    return train(tiny_cfg, tiny_data, CPU)


def test_default_synthetic_spectra_are_seeded_monomer_dimer():
    cfg = SpectralConfig.load()
    assert cfg.data.regime == "monomer_dimer"
    a = synthetic_spectra(cfg.data, 0, CPU)
    assert tuple(a.spectra.shape) == (6, 31)  # the default's coarse grid (the seed's is 601)
    shifted = SpectralConfig.load({"data": {"regime": "band_shift"}}).data
    assert non_monotonic_fraction(synthetic_spectra(shifted, 0, CPU)) > 0.3
    torch.testing.assert_close(a.spectra, synthetic_spectra(cfg.data, 0, CPU).spectra)
    assert not torch.equal(a.spectra, synthetic_spectra(cfg.data, 1, CPU).spectra)
    assert ordered_transitions(6, CPU).shape == (30, 2)


def test_short_training_lowers_the_loss_and_checks_christoffel(trained):
    losses = [h["loss"] for h in trained.history]
    assert len(losses) == 6
    assert losses[-1] < 0.6 * losses[0]
    check = trained.summary["christoffel_fd_vs_autograd"]["trained"]
    assert check["max_rel_diff"] < 1e-2
    assert {"samples_per_s", "ode_solves_per_s", "grad_steps_per_s", "seconds"} <= set(
        trained.history[0]
    )
    inner = trained.convergence["inner_samples"]
    assert 0.1 * 30 * 24 < inner < 0.3 * 30 * 24  # about inner_fraction = 0.2 of the samples
    assert trained.summary["shooting"]["solves"] == 6 * (30 * 24 - inner)


def test_a_run_that_hits_the_epoch_cap_is_not_converged_and_keeps_its_best_epoch(trained):
    conv = trained.convergence
    assert conv["converged"] is False and conv["epochs_run"] == 6
    inner = [h["inner_loss"] for h in trained.history]
    assert conv["best_epoch"] == conv["kept_epoch"] == 1 + int(np.argmin(inner))
    assert conv["final_loss"] == trained.history[-1]["loss"]


def test_training_stops_by_the_patience_rule_and_keeps_the_best_inner_epoch(tiny_data):
    """Patience 3: the schedule halves the rate after 2 epochs without improvement of the
    smoothed inner loss, the run stops after 3, and the weights are those of the epoch with the
    lowest inner loss (checked by recomputing it)."""
    from zetalab.spectral.train import TransitionSampler, inner_cells, inner_loss

    cfg = SpectralConfig.load(
        {
            **TINY,
            "train": {**TINY["train"], "epochs": 60, "patience": 3, "lr_patience": 2},
        }
    )
    out = train(cfg, tiny_data, CPU)
    conv = out.convergence
    assert conv["converged"] is True and conv["epochs_run"] < 60
    assert conv["epochs_run"] == conv["last_improvement_epoch"] + 3
    inner = [h["inner_loss"] for h in out.history]
    assert conv["best_epoch"] == 1 + int(np.argmin(inner))
    scales = [h["lr_scale"] for h in out.history]
    assert scales[-1] < 1.0 and scales == sorted(scales, reverse=True)
    mask = inner_cells(6, 24, cfg.train.inner_fraction, cfg.seed, CPU)
    again = inner_loss(out.model, TransitionSampler(tiny_data, mask), 4096)
    assert again == pytest.approx(conv["kept_inner_loss"], rel=1e-5)


def test_patience_below_its_minimum_is_refused_naming_the_key(tiny_data):
    cfg = SpectralConfig.load({"train": {"patience": 4, "lr_patience": 4}})
    with pytest.raises(ZetalabError, match=r"spectral.train.patience = 4 is below its minimum"):
        train(cfg, tiny_data, CPU)
    with pytest.raises(ZetalabError, match=r"spectral.train.patience"):
        SpectralConfig.load({"train": {"patience": 0}})


def test_zero_concentration_gives_zero_absorbance_by_construction(tiny_data, trained):
    """A = c B: whatever the weights, carrying any spectrum to c = 0 gives exactly 0."""
    a = tiny_data.spectra
    zero = trained.model.predict_spectrum(float(tiny_data.concentrations[2]), 0.0, a[2])
    assert float(zero.abs().max()) == 0.0
    unrolled = UnrolledSpectralModel(trained.model)
    with torch.no_grad():
        out = unrolled(tiny_data.concentrations[1:3], torch.tensor([0.0, 0.0]), a[1:3])
    assert float(out.abs().max()) == 0.0


def test_resume_continues_to_the_same_weights(tiny_cfg, tiny_data, trained, tmp_path):
    ckpt = tmp_path / "checkpoint.pt"
    first = train(tiny_cfg.replace(train={"epochs": 3}), tiny_data, CPU, checkpoint=ckpt)
    assert [h["epoch"] for h in first.history] == [1, 2, 3]
    resumed = train(tiny_cfg, tiny_data, CPU, checkpoint=ckpt)
    assert resumed.summary["resumed_after_epoch"] == 3
    assert [h["epoch"] for h in resumed.history] == list(range(1, 7))
    for name, value in trained.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, msg=name)


def test_validation_scores_the_model_and_every_baseline(tiny_cfg, tiny_data, trained):
    result = evaluate_held_out(trained.model, tiny_data, 2)
    assert result["kind"] == "interpolation" and len(result["sources"]) == 2
    assert set(result["scores"]) == {
        "node",
        "linear",
        "cubic_spline",
        "pchip",
        "akima",
        "gp",
        "low_rank",
    }
    assert result["strongest"]["method"] in result["scores"]
    assert result["noise_floor"] == pytest.approx(float(tiny_data.noise_variance[2].mean()))
    for scores in result["scores"].values():
        assert scores["mse"] > 0 and scores["r2"] < 1
    assert result["best"] == min(result["scores"], key=lambda m: result["scores"][m]["mse"])
    # the linear baseline is the straight line between the two neighbours
    a, c = tiny_data.spectra.double(), tiny_data.concentrations.double()
    w = (c[2] - c[1]) / (c[3] - c[1])
    want = a[1] + w * (a[3] - a[1])
    np.testing.assert_allclose(result["curves"]["linear"], want.numpy(), atol=1e-12)
    end = evaluate_held_out(trained.model, tiny_data, 5)
    assert end["kind"] == "extrapolation" and end["sources"] == [float(c[4])]
    assert all(np.isfinite(s["mse"]) for s in end["scores"].values())
    scores = spectrum_scores(tiny_data.spectra[:1], tiny_data.spectra[:1])
    assert float(scores["mse"][0]) == 0 and float(scores["r2"][0]) == pytest.approx(1.0)
    assert float(scores["spectral_angle"][0]) == pytest.approx(0.0, abs=1e-6)


def test_export_agrees_with_eager_and_infer_runs(tiny_data, trained, tmp_path, capsys):
    ts, ox = tmp_path / "model.pt", tmp_path / "model.onnx"
    manifest = export_all(trained.model, tiny_data, ts, ox, opset=18)
    assert manifest["torchscript"]["max_abs_diff_vs_eager"] < 1e-5
    assert manifest["max_abs_diff_unrolled_vs_trained_forward"] < 1e-4
    proto = onnx.load(str(ox))
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ["c_from", "c_to", "a_from"]
    assert manifest["onnx"]["max_abs_diff_vs_eager"] < 1e-4
    # the standalone script, from a training concentration, against the eager unrolled model
    c = tiny_data.concentrations
    assert infer_main([str(ts), "--c-from", f"{float(c[1])!r}", "--c-to", "0.4"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    got = np.array([float(r.split(",")[1]) for r in rows])
    with torch.no_grad():
        want = UnrolledSpectralModel(trained.model)(
            c[1:2], torch.tensor([0.4]), tiny_data.spectra[1:2]
        )[0]
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
    assert infer_main([str(ts), "--c-from", "0.123", "--c-to", "0.4"]) == 2
    assert "not a training concentration" in capsys.readouterr().err
    # negative concentrations: refused even with --extrapolate, in one line, exit 2
    args = [str(ts), "--c-from", f"{float(c[0])!r}", "--c-to", "-0.2", "--extrapolate"]
    assert infer_main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "--c-to is -0.2; a concentration cannot be negative" in captured.err
    # c = 0 with --extrapolate: A = 0 at every wavelength
    assert infer_main([*args[:-2], "0", "--extrapolate"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert all(float(r.split(",")[1]) == 0.0 for r in rows)


def test_fewer_than_three_concentrations_is_refused(tmp_path):
    with pytest.raises(ZetalabError, match="at least three concentrations"):
        synthetic_spectra(
            SpectralConfig.load({"data": {"concentrations": [0.1, 0.5]}}).data, 0, CPU
        )
    section = SpectralConfig.load({"data": {"concentrations": [0.1, 0.5]}}).to_dict()
    with pytest.raises(ZetalabError, match="at least three concentrations"):
        planned_held_out(section)


def test_non_increasing_wavelength_grid_is_refused(tmp_path):
    with pytest.raises(ZetalabError, match="wavelength grid is not increasing"):
        cfg = SpectralConfig.load({"data": {"wavelength_min": 700.0, "wavelength_max": 400.0}})
        synthetic_spectra(cfg.data, 0, CPU)
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        concentrations=np.array([0.1, 0.2, 0.3]),
        wavelengths=np.array([400.0, 401.0, 401.0, 402.0]),
        spectra=np.zeros((3, 4)),
    )
    with pytest.raises(ZetalabError, match=r"strictly increasing .*first violation at index 1"):
        load_spectra(path, CPU, torch.float32)


def test_edge_held_out_concentration_is_refused():
    assert held_out_indices(6, None) == [1, 2, 3, 4]
    with pytest.raises(ZetalabError, match=r"edge concentration.*extrapolation"):
        held_out_indices(6, [2, 5])
    with pytest.raises(ZetalabError, match="edge concentration"):
        planned_held_out(SpectralConfig.load({"validation": {"held_out": [0]}}).to_dict())
    with pytest.raises(ZetalabError, match="only 6 concentrations"):
        held_out_indices(6, [9])


def test_unsorted_concentrations_and_bad_batches_are_refused(tiny_data):
    with pytest.raises(ZetalabError, match="strictly increasing"):
        Spectra(torch.tensor([0.1, 0.3, 0.2]), tiny_data.wavelengths, tiny_data.spectra[:3])
    cfg = SpectralConfig.load({"train": {"mega_batch": 10, "micro_batch": 20}})
    with pytest.raises(ZetalabError, match="micro_batch"):
        train(cfg, tiny_data, CPU)


def test_config_round_trips_through_json(tiny_cfg):
    again = SpectralConfig.load(json.loads(json.dumps(tiny_cfg.to_dict())))
    assert again == tiny_cfg


def test_the_benchmark_times_the_seeds_configuration_with_its_spread():
    """SEED_SETTINGS is the seed's cell 2 and 6 (dopri5 + adjoint, 10 Newton steps, 2048/256,
    601 wavelengths); it runs, and the figures are a median with its min-max over epochs."""
    from zetalab.spectral.benchmark import SEED_SETTINGS, benchmark, table

    seed = SpectralConfig.load(SEED_SETTINGS)
    assert (seed.solver.method, seed.solver.adjoint, seed.shooting.newton_steps) == (
        "dopri5",
        True,
        10,
    )
    assert (seed.train.mega_batch, seed.train.micro_batch, seed.data.n_wavelengths) == (
        2048,
        256,
        601,
    )
    small = seed.replace(data={"n_wavelengths": 6}, benchmark={"epochs": 3})
    torch.set_num_threads(1)
    data = synthetic_spectra(small.data, 0, CPU)
    model = train(small.replace(train={"epochs": 1}), data, CPU).model
    result = benchmark(model, data, small, CPU)
    t = result["train"]
    assert t["epochs_timed"] == 3 and t["samples_per_epoch"] == 30 * 6
    assert t["epoch_seconds_min"] <= t["epoch_seconds"] <= t["epoch_seconds_max"]
    assert result["settings"]["method"] == "dopri5" and result["settings"]["adjoint"] is True
    text = table(result)
    assert "dopri5 + adjoint, 10 Newton steps, mega-batch 2048 / micro-batch 256" in text
    assert "median of 3 epochs" in text


def test_a_models_noise_floor_is_its_held_out_spectrums_mean_variance(tiny_data):
    """history.json's noise_floor: the left-out spectrum's mean noise variance (not a trained
    one's), all spectra for `all`; unknown (None) for file data."""
    from zetalab.spectral.stages import noise_floor, subset_indices

    variance = tiny_data.noise_variance.double()
    n = tiny_data.n_concentrations
    variance[n - 1] *= 10.0  # the spectra's floors differ, so picking the wrong one shows
    data = dataclasses.replace(tiny_data, noise_variance=variance.float())
    for k in (0, n - 1):
        keep = subset_indices(f"without_c{k}", n)
        assert noise_floor(data, keep) == pytest.approx(float(variance[k].mean()), rel=1e-6)
    assert noise_floor(data, subset_indices("all", n)) == pytest.approx(
        float(variance.mean()), rel=1e-6
    )
    assert noise_floor(dataclasses.replace(data, noise_variance=None), [0, 1]) is None

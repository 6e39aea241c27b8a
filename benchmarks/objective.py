"""Holdout RMSE of every variant, of `linear`, `mlp` and of every baseline on the default
config (issue 12's figure table), mean and range over seeds, plus the seam of each trained run.

    nice -n 10 .venv/bin/python benchmarks/objective.py --seeds 0 1 2
    .venv/bin/python benchmarks/objective.py --variants minibatch --seeds 0 --epochs 5  # quick

Zeros 1..N+2H come from Odlyzko's table (`--table`, the project's independent reference,
which the `rs` engine reproduces to 1e-9), so no zero stage has to run first. Each run is the
code of the workflow (resolve_run_config → build_problem → Trainer; run_baseline), on CPU with
one torch thread. The seam: with the trained model fixed, 8 masks of 12 horizon-length spans
inside 1..N are hidden; the mean spacing of x̃ across observed→hidden and hidden→observed
boundaries (target 1) and their RMSE against the true spacings beside that inside the spans.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def seam(trainer, horizon: int, masks: int = 8, spans: int = 12) -> dict[str, float]:
    """Mean spacing across observed→hidden / hidden→observed boundaries and RMSEs."""
    import torch

    from zetalab.learning.batches import hidden_mask
    from zetalab.learning.losses import blend

    p, whole = trainer.problem, trainer.eval_batches[0]
    i = np.arange(p.N - 1)
    s_true = 1 + p.data.delta[i + 1] - p.data.delta[i]
    rows = {"into": [], "out_of": [], "inside": []}
    for seed in range(masks):
        hidden = hidden_mask(np.random.default_rng(seed), p.observable, p.N, 0.0, spans, horizon)
        observed = p.observable & ~hidden
        with torch.no_grad():
            pred = trainer.model(trainer._features(torch.as_tensor(observed), whole), whole.adj)
        truth = torch.as_tensor(p.data.delta)
        x = blend(pred.double(), truth, torch.as_tensor(observed)).numpy()
        s = 1 + x[i + 1] - x[i]
        known = observed | hidden
        both = known[i] & known[i + 1]
        for key, sel in (
            ("into", both & observed[i] & hidden[i + 1]),
            ("out_of", both & hidden[i] & observed[i + 1]),
            ("inside", hidden[i] & hidden[i + 1]),
        ):
            rows[key].append(np.c_[s[sel], s_true[sel]])
    out = {}
    for key, parts in rows.items():
        both = np.concatenate(parts)
        out[f"{key}_mean"] = float(both[:, 0].mean())
        out[f"{key}_rmse"] = float(np.sqrt(np.mean((both[:, 0] - both[:, 1]) ** 2)))
    return out


def holdout_rmse(delta_pred: np.ndarray, data, splits) -> tuple[float, float]:
    from zetalab.evaluation.metrics import evaluate_predictions

    errors = evaluate_predictions(delta_pred, data, splits)["errors"]
    return errors["extrapolation"]["rmse_spacing"], errors["holdout"]["rmse_spacing"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="../shared/data/odlyzko_zeros1.txt")
    parser.add_argument("--variants", nargs="*", default=None, help="default: train.variants")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: train.epochs")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()

    import torch

    from zetalab.config import load_config
    from zetalab.evaluation.baselines import observed_view, run_baseline
    from zetalab.learning.dataset import make_splits, zero_data
    from zetalab.learning.features import feature_spec
    from zetalab.learning.loop import RunPaths, Trainer
    from zetalab.learning.problem import build_problem
    from zetalab.learning.runconfig import resolve_run_config

    torch.set_num_threads(1)
    base = load_config()
    ds = base["dataset"]
    n, h = int(ds["N"]), int(ds["horizon"])
    data = zero_data(np.loadtxt(args.table, max_rows=n + 2 * h))
    splits = make_splits(n, h, ds["validation_fraction"], ds["split_seed"])
    overrides = {"train": {"epochs": args.epochs}} if args.epochs else {}
    rows = []
    for variant in args.variants or list(base["train"]["variants"]):
        for seed in args.seeds:
            config = resolve_run_config(base, overrides, variant)
            t0 = time.perf_counter()
            problem = build_problem(config, data)
            with tempfile.TemporaryDirectory() as tmp:
                d = Path(tmp)
                paths = RunPaths(d / "metrics.json", d / "history.csv", d / "predictions.npz")
                trainer = Trainer(config, problem, seed, paths)
                trainer.run("bench")
                ext, hold = holdout_rmse(trainer.predict(), data, splits)
                rows.append((variant, seed, ext, hold, time.perf_counter() - t0, seam(trainer, h)))
            r = rows[-1]
            print(f"{variant} seed {seed}: extrapolation {ext:.4f} holdout {hold:.4f} "
                  f"({r[4]:.0f} s) seam {r[5]}", flush=True)  # fmt: skip
    if not args.no_baselines:
        observed = observed_view(data, splits)
        spec = feature_spec(base["model"], base["graph"]["primes"])
        for name in base["baselines"]["names"]:
            t0 = time.perf_counter()
            result = run_baseline(name, observed, base["baselines"], spec, base["model"])
            ext, hold = holdout_rmse(result.delta_pred, data, splits)
            rows.append((name, None, ext, hold, time.perf_counter() - t0, None))

    print("\n| predictor | seeds | extrapolation RMSE | holdout RMSE (mean, range) | s per run |")
    print("|---|---|---|---|---|")
    for name in dict.fromkeys(r[0] for r in rows):
        group = [r for r in rows if r[0] == name]
        ext = np.array([r[2] for r in group])
        hold = np.array([r[3] for r in group])
        seeds = ", ".join(str(r[1]) for r in group) if group[0][1] is not None else "–"
        spread = f" ({hold.min():.4f}–{hold.max():.4f})" if len(group) > 1 else ""
        print(f"| {name} | {seeds} | {ext.mean():.4f} | {hold.mean():.4f}{spread} | "
              f"{np.mean([r[4] for r in group]):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()

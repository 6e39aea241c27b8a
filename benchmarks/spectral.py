"""Study S throughput: samples/s, ODE solves/s, gradient steps/s, full-grid epoch time.

    .venv/bin/python benchmarks/spectral.py [--threads 2] [--epochs 3] [--device auto]
        [--preset default|default-601|seed]
        [--model results/spectral/monomer_dimer/models/all/model.pt]
        [--set train.mega_batch=4096 ...]

Runs on CUDA when present (the seed's A100 targets are then checked), else on the CPU. Without
--model a freshly initialised model on the synthetic spectra is timed (the cost per sample does
not depend on the weights). --preset seed times the seed's configuration (dopri5 + adjoint, 10
Newton steps, mega-batch 2048 / micro-batch 256, 601 wavelengths; benchmark.SEED_SETTINGS);
default-601 the default solver on the seed's grid; default the default run as configured.
Prints the table recorded in docs/benchmarks.md: the median epoch with its min-max.
"""

from __future__ import annotations

import argparse
import copy
import json

import torch
import yaml

from zetalab.spectral.benchmark import SEED_SETTINGS, benchmark, table
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import make_spectra
from zetalab.spectral.device import setup_device, torch_dtype
from zetalab.spectral.train import load_model, new_model


def overrides(pairs: list[str]) -> dict:
    out: dict = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--preset", choices=["default", "default-601", "seed"], default="default")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--model", help="a trained model.pt (default: fresh weights)")
    parser.add_argument("--set", nargs="*", default=[], help="spectral config overrides k=v")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    extra = {
        "default": {},
        "default-601": {"data": {"n_wavelengths": 601}},
        "seed": copy.deepcopy(SEED_SETTINGS),
    }[args.preset]
    for section, values in overrides(args.set).items():
        extra.setdefault(section, {}).update(values)
    extra.setdefault("benchmark", {})["epochs"] = args.epochs
    extra.setdefault("device", {})["kind"] = args.device
    cfg = SpectralConfig.load(extra)
    device = setup_device(cfg.device)
    data = make_spectra(cfg.data, cfg.seed, device, torch_dtype(cfg.dtype))
    if args.model:
        model, _ = load_model(args.model, device)
    else:
        model = new_model(cfg, data.n_wavelengths, device)
    result = benchmark(model, data, cfg, device)
    print(table(result))
    print(json.dumps(result["settings"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()

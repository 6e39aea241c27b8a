"""Export for deployment (seed cell 12): TorchScript, and ONNX where it traces.

What is exported is the *unrolled* inference model: fixed Newton steps of the shooting solver,
fixed 3/8-rule rk4 steps for the coupled ODE, finite-difference Christoffel symbols. Adaptive
dopri5, the adjoint and autograd Christoffel symbols have data-dependent control flow or need
autograd at run time and do not trace; with those settings the export still uses the fixed-step
model, and the manifest records the measured difference from the trained configuration.
The files carry their metadata (wavelength grid, training spectra, solver settings) so that
``zetalab.spectral.infer`` needs neither this package nor the config.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zetalab.io import atomic_path, sha256_file
from zetalab.spectral.data import Spectra
from zetalab.spectral.dynamics import CoupledDynamics
from zetalab.spectral.infer import META_KEY
from zetalab.spectral.integrate import rk4_fixed
from zetalab.spectral.model import GeodesicSpectralNODE, to_absorbance, to_absorptivity
from zetalab.spectral.shooting import shoot

log = logging.getLogger(__name__)


class UnrolledSpectralModel(nn.Module):
    """forward(c_from (B,), c_to (B,), a_from (B, W)) -> A at c_to (B, W); no branches."""

    def __init__(self, model: GeodesicSpectralNODE):
        super().__init__()
        self.metric = model.metric
        self.flow = model.flow
        self.newton_steps = model.shooting_cfg.newton_steps
        self.shooting_steps = model.shooting_cfg.steps
        self.quad_points = model.shooting_cfg.quad_points
        self.steps = model.solver_cfg.steps
        self.fd_eps = model.solver_cfg.fd_eps
        self.dynamics = CoupledDynamics(self.metric, self.flow, "fd", self.fd_eps)
        self.register_buffer("wavelength_index", torch.arange(model.n_wavelengths))

    def forward(self, c_from: torch.Tensor, c_to: torch.Tensor, a_from: torch.Tensor):
        idx = self.wavelength_index.expand_as(a_from).reshape(-1)
        c_a = c_from[:, None].expand_as(a_from).reshape(-1)
        c_b = c_to[:, None].expand_as(a_from).reshape(-1)
        v0 = shoot(
            self.metric,
            c_a,
            c_b,
            idx,
            newton_steps=self.newton_steps,
            steps=self.shooting_steps,
            quad_points=self.quad_points,
            christoffel="fd",
            fd_eps=self.fd_eps,
        ).v0
        y0 = torch.stack([c_a, v0, to_absorptivity(a_from.reshape(-1), c_a)], dim=1)
        y1 = rk4_fixed(self.dynamics.set_context(idx), y0, self.steps)
        return to_absorbance(y1[:, 2], c_b).reshape(a_from.shape)


def metadata(model: GeodesicSpectralNODE, data: Spectra, unrolled: UnrolledSpectralModel) -> dict:
    return {
        "format": "zetalab-spectral-export/1",
        "inputs": {
            "c_from": "(B,) concentration of the given spectra",
            "c_to": "(B,) concentration to carry them to",
            "a_from": "(B, W) absorbance on the wavelength grid",
        },
        "output": "(B, W) predicted absorbance at c_to",
        "wavelengths": data.wavelengths.cpu().tolist(),
        "concentrations": data.concentrations.cpu().tolist(),
        "spectra": data.spectra.cpu().tolist(),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "exported_model": (
            f"unrolled: {unrolled.newton_steps} Newton steps x {unrolled.shooting_steps} rk4 "
            f"steps (shooting), {unrolled.steps} rk4 (3/8 rule) steps (coupled ODE), "
            "finite-difference Christoffel symbols"
        ),
        "trained_with": {
            "method": model.solver_cfg.method,
            "steps": model.solver_cfg.steps,
            "adjoint": model.solver_cfg.adjoint,
            "christoffel": model.solver_cfg.christoffel,
        },
    }


@torch.no_grad()
def export_all(
    model: GeodesicSpectralNODE,
    data: Spectra,
    torchscript_path: Path,
    onnx_path: Path | None,
    opset: int,
) -> dict[str, Any]:
    """Write the TorchScript (and ONNX) files and return the manifest with agreement checks."""
    model = model.cpu().eval()
    data = data.to(torch.device("cpu"), next(model.parameters()).dtype)
    unrolled = UnrolledSpectralModel(model).eval()
    meta = metadata(model, data, unrolled)
    example = _example_inputs(data, batch=2)
    check = _example_inputs(data, batch=3, shift=1)
    eager = unrolled(*check)
    # The unrolled model against the trained model's own torchdiffeq forward pass.
    trained = torch.stack(
        [model.predict_spectrum(float(cf), float(ct), a) for cf, ct, a in zip(*check, strict=True)]
    )
    manifest: dict[str, Any] = {
        "exported_model": meta["exported_model"],
        "trained_with": meta["trained_with"],
        "max_abs_diff_unrolled_vs_trained_forward": float((eager - trained).abs().max()),
    }

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(unrolled, example, check_trace=False)
    with atomic_path(torchscript_path) as tmp:
        torch.jit.save(traced, str(tmp), _extra_files={META_KEY: json.dumps(meta)})
    reloaded = torch.jit.load(str(torchscript_path))
    manifest["torchscript"] = {
        "path": str(torchscript_path),
        "sha256": sha256_file(torchscript_path),
        "max_abs_diff_vs_eager": float((reloaded(*check) - eager).abs().max()),
        "checked_batch": int(check[0].shape[0]),
    }
    log.info("TorchScript: %s", manifest["torchscript"])
    if onnx_path is not None:
        manifest["onnx"] = export_onnx(unrolled, example, check, eager, onnx_path, opset, meta)
    return manifest


def export_onnx(unrolled, example, check, eager, path: Path, opset: int, meta) -> dict[str, Any]:
    """ONNX with a dynamic batch dimension, checked and run with onnx's reference evaluator.

    The TorchScript-based exporter (``dynamo=False``) is used: on this unrolled graph (about
    6,600 nodes) it takes seconds, while the dynamo exporter took over four minutes on a 2-core
    CPU and its output did not accept another batch size.
    """
    import onnx

    started = time.perf_counter()
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            unrolled,
            example,
            str(tmp),
            input_names=["c_from", "c_to", "a_from"],
            output_names=["a_to"],
            opset_version=opset,
            dynamo=False,
            dynamic_axes={name: {0: "batch"} for name in ("c_from", "c_to", "a_from", "a_to")},
        )
        proto = onnx.load(str(tmp))
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_KEY, json.dumps(meta)
        onnx.save(proto, str(tmp))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    ops: dict[str, int] = {}
    for node in proto.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    info: dict[str, Any] = {
        "path": str(path),
        "sha256": sha256_file(path),
        "opset": opset,
        "exporter": "torch.onnx.export(dynamo=False), dynamic batch axis",
        "checker": "onnx.checker.check_model(full_check=True) passed",
        "nodes": len(proto.graph.node),
        "op_types": dict(sorted(ops.items())),
        "inputs": [i.name for i in proto.graph.input],
        "outputs": [o.name for o in proto.graph.output],
        "export_seconds": round(time.perf_counter() - started, 2),
    }
    info.update(run_onnx_reference(path, check, eager))
    log.info("ONNX: %s nodes, %s", info["nodes"], info.get("max_abs_diff_vs_eager"))
    return info


def run_onnx_reference(path: Path, check, eager) -> dict[str, Any]:
    """Run the ONNX file with onnx's own reference evaluator (no onnxruntime needed)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    try:
        session = ReferenceEvaluator(onnx.load(str(path)))
        feeds = {
            name: t.numpy() for name, t in zip(("c_from", "c_to", "a_from"), check, strict=True)
        }
        (out,) = session.run(None, feeds)
    except Exception as exc:  # the reference evaluator lacks some ops; record, don't hide
        return {"reference_evaluator": f"could not run: {type(exc).__name__}: {exc}"}
    diff = float((torch.as_tensor(out) - eager).abs().max())
    return {
        "reference_evaluator": "onnx.reference.ReferenceEvaluator",
        "max_abs_diff_vs_eager": diff,
    }


def _example_inputs(data: Spectra, batch: int, shift: int = 0):
    n = data.n_concentrations
    i = torch.arange(batch) % n
    j = (i + 1 + shift) % n
    return data.concentrations[i], data.concentrations[j], data.spectra[i]

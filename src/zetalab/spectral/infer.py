"""Standalone inference with an exported Study S model.

    python -m zetalab.spectral.infer MODEL --c-from 0.3 --c-to 0.4 [--spectrum FILE] [--out CSV]
        [--extrapolate]

MODEL is the TorchScript file (needs only torch) or the ONNX file (needs onnxruntime, or falls
back to onnx's reference evaluator). Without --spectrum, --c-from must be one of the training
concentrations stored in the model's metadata, and that training spectrum is used. --spectrum
takes a .npy or a text file with one absorbance per wavelength of the model's grid. The output
is CSV "wavelength,absorbance". Concentrations must be finite, never negative (no solution has
one, and the model's A = c B would turn the spectrum upside down), and inside the training
range (the model was never shown anything beyond it); --extrapolate allows --c-to outside it,
down to 0 (where the model gives A = 0 by construction), and says so on standard error. This
module imports nothing from zetalab.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

META_KEY = "zetalab_spectral.json"  # the metadata entry of both file kinds (export writes it)


class InferenceError(Exception):
    pass


def load(path: Path):
    """(run(c_from, c_to, a_from) -> ndarray, metadata) for a .onnx or TorchScript file."""
    if not path.exists():
        raise InferenceError(f"model file {path} does not exist")
    if path.suffix == ".onnx":
        import onnx

        proto = onnx.load(str(path))
        meta = json.loads({p.key: p.value for p in proto.metadata_props}[META_KEY])
        try:
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path))
        except ImportError:
            from onnx.reference import ReferenceEvaluator

            session = ReferenceEvaluator(proto)

        def run(c_from, c_to, a_from):
            feeds = {"c_from": c_from, "c_to": c_to, "a_from": a_from}
            return np.asarray(session.run(None, feeds)[0])

        return run, meta
    import torch

    extra = {META_KEY: ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    meta = json.loads(extra[META_KEY])

    def run(c_from, c_to, a_from):
        with torch.no_grad():
            args = (torch.as_tensor(c_from), torch.as_tensor(c_to), torch.as_tensor(a_from))
            return module(*args).numpy()

    return run, meta


def starting_spectrum(meta: dict, c_from: float, spectrum: Path | None) -> np.ndarray:
    wavelengths = meta["wavelengths"]
    if spectrum is not None:
        a = np.load(spectrum) if spectrum.suffix == ".npy" else np.loadtxt(spectrum, delimiter=",")
        a = np.asarray(a, dtype=float).reshape(-1)
        if a.shape[0] != len(wavelengths):
            raise InferenceError(
                f"{spectrum} has {a.shape[0]} values; the model's grid has {len(wavelengths)} "
                f"wavelengths ({wavelengths[0]}..{wavelengths[-1]} nm)"
            )
        return a
    known = np.asarray(meta["concentrations"])
    hit = np.flatnonzero(np.isclose(known, c_from, rtol=1e-6, atol=1e-9))
    if hit.size == 0:
        raise InferenceError(
            f"--c-from {c_from} is not a training concentration ({known.tolist()}); "
            "pass --spectrum with the spectrum measured at --c-from"
        )
    return np.asarray(meta["spectra"][int(hit[0])], dtype=float)


def check_concentrations(meta: dict, c_from: float, c_to: float, extrapolate: bool) -> str | None:
    """Refuse NaN, infinite and negative concentrations and, unless allowed, ones outside the
    training range.

    Returns a note for standard error when an allowed extrapolation happens.
    """
    for name, value in (("--c-from", c_from), ("--c-to", c_to)):
        if not np.isfinite(value):
            raise InferenceError(f"{name} is {value}; give a finite concentration")
        if value < 0:
            raise InferenceError(
                f"{name} is {value:g}; a concentration cannot be negative "
                "(--extrapolate does not change that)"
            )
    known = np.asarray(meta["concentrations"], dtype=float)
    lo, hi = float(known.min()), float(known.max())
    if not lo <= c_from <= hi:
        raise InferenceError(
            f"--c-from {c_from} is outside the training range [{lo:g}, {hi:g}]; the model "
            "carries spectra only from where it was trained"
        )
    if lo <= c_to <= hi:
        return None
    if not extrapolate:
        raise InferenceError(
            f"--c-to {c_to} is outside the training range [{lo:g}, {hi:g}]: that would be "
            "extrapolation, which the validation scores separately (and worse); pass "
            "--extrapolate to do it anyway"
        )
    return f"note: extrapolating to c = {c_to:g}, outside the training range [{lo:g}, {hi:g}]"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zetalab.spectral.infer", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("model", type=Path, help="exported .pt (TorchScript) or .onnx file")
    p.add_argument(
        "--c-from",
        type=float,
        required=True,
        help="concentration of the starting spectrum; without --spectrum, one of the training "
        "concentrations (its stored spectrum is used)",
    )
    p.add_argument(
        "--c-to",
        type=float,
        required=True,
        help="concentration to carry the spectrum to; must lie in the training range unless "
        "--extrapolate is given",
    )
    p.add_argument(
        "--spectrum",
        type=Path,
        help=".npy or comma/whitespace text with one absorbance per wavelength of the model's "
        "grid, measured at --c-from (default: the training spectrum at --c-from)",
    )
    p.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    p.add_argument(
        "--extrapolate",
        action="store_true",
        help="allow --c-to outside the training concentration range (reported on stderr)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run, meta = load(args.model)
        note = check_concentrations(meta, args.c_from, args.c_to, args.extrapolate)
        a_from = starting_spectrum(meta, args.c_from, args.spectrum)
        if not np.all(np.isfinite(a_from)):
            raise InferenceError("the starting spectrum contains NaN or infinite values")
    except InferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if note:
        print(note, file=sys.stderr)
    dtype = np.float64 if meta["dtype"] == "float64" else np.float32
    out = run(
        np.asarray([args.c_from], dtype=dtype),
        np.asarray([args.c_to], dtype=dtype),
        a_from[None, :].astype(dtype),
    )[0]
    lines = ["wavelength,absorbance"]
    lines += [f"{w:.6g},{a:.8g}" for w, a in zip(meta["wavelengths"], out, strict=True)]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

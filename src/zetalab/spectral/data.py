"""Spectra: seeded synthetic generation on the device (seed cell 3), checks, transitions.

The synthetic absorbance is built so that interpolating in concentration is hard for a straight
line: one band rises then falls with c, one shifts its centre with c, one follows a sine of c.
So at most wavelengths A(c) is non-monotonic, and linear interpolation between neighbouring
spectra is a fair but beatable baseline.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from zetalab.errors import ZetalabError
from zetalab.io import atomic_path
from zetalab.spectral.config import DataConfig


@dataclasses.dataclass
class Spectra:
    """Concentrations (C,), wavelengths (W,) and absorbance (C, W), all on one device."""

    concentrations: torch.Tensor
    wavelengths: torch.Tensor
    spectra: torch.Tensor

    def __post_init__(self) -> None:
        check_spectra(self.concentrations, self.wavelengths, self.spectra)

    @property
    def n_concentrations(self) -> int:
        return int(self.concentrations.shape[0])

    @property
    def n_wavelengths(self) -> int:
        return int(self.wavelengths.shape[0])

    def to(self, device: torch.device, dtype: torch.dtype) -> Spectra:
        return Spectra(
            self.concentrations.to(device, dtype).contiguous(),
            self.wavelengths.to(device, dtype).contiguous(),
            self.spectra.to(device, dtype).contiguous(),
        )

    def subset(self, keep: list[int]) -> Spectra:
        """Only the concentrations with these indices (for leave-one-out training)."""
        index = torch.as_tensor(keep, device=self.concentrations.device)
        return Spectra(self.concentrations[index], self.wavelengths, self.spectra[index])


def check_spectra(concentrations: torch.Tensor, wavelengths: torch.Tensor, spectra: torch.Tensor):
    """Refuse data the model cannot be trained or validated on, naming the fix."""
    c = concentrations.detach().cpu().double()
    w = wavelengths.detach().cpu().double()
    if c.ndim != 1 or c.shape[0] < 3:
        raise ZetalabError(
            f"Study S needs at least three concentrations, got {c.numel()}",
            "give spectral.data.concentrations (or the data file) three or more values: "
            "interpolation validation leaves an inner one out and needs a neighbour on each side",
        )
    if not bool(torch.all(torch.diff(c) > 0)):
        raise ZetalabError(
            f"concentrations must be strictly increasing, got {c.tolist()}",
            "sort the concentrations (and their spectra) and remove duplicates",
        )
    if w.ndim != 1 or w.shape[0] < 2 or not bool(torch.all(torch.diff(w) > 0)):
        bad = int(torch.nonzero(torch.diff(w) <= 0)[0, 0]) if w.ndim == 1 and w.numel() > 1 else 0
        raise ZetalabError(
            f"the wavelength grid must be strictly increasing with at least two points "
            f"(first violation at index {bad} of {w.numel()})",
            "sort the wavelengths ascending and drop repeated values "
            "(synthetic data: make spectral.data.wavelength_max larger than wavelength_min)",
        )
    if tuple(spectra.shape) != (c.shape[0], w.shape[0]):
        raise ZetalabError(
            f"spectra have shape {tuple(spectra.shape)}, expected "
            f"(concentrations, wavelengths) = ({c.shape[0]}, {w.shape[0]})",
            "store one row per concentration and one column per wavelength",
        )
    if not bool(torch.isfinite(spectra).all()):
        raise ZetalabError("spectra contain NaN or infinite values", "clean the data file")


def wavelength_grid(cfg: DataConfig, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if not cfg.wavelength_max > cfg.wavelength_min:
        raise ZetalabError(
            f"the wavelength grid is not increasing: wavelength_min = {cfg.wavelength_min}, "
            f"wavelength_max = {cfg.wavelength_max}",
            "set spectral.data.wavelength_max larger than spectral.data.wavelength_min",
        )
    return torch.linspace(
        cfg.wavelength_min, cfg.wavelength_max, cfg.n_wavelengths, device=device, dtype=dtype
    )


def synthetic_spectra(
    cfg: DataConfig, seed: int, device: torch.device, dtype: torch.dtype = torch.float32
) -> Spectra:
    """All spectra in one broadcast expression on `device`; band positions jitter with `seed`.

    Generated in float64 and cast, so the clean signal is the same on every device; the noise
    comes from a generator on `device`, so CPU and CUDA draw different (each reproducible) noise.
    """
    generator = torch.Generator(device=device).manual_seed(seed)
    f64 = torch.float64
    c = torch.as_tensor(cfg.concentrations, device=device, dtype=f64)
    lam = wavelength_grid(cfg, device, f64)
    jitter = (torch.rand(6, generator=generator, device=device, dtype=f64) - 0.5) * 10.0
    cc = c[:, None]
    span = cfg.wavelength_max - cfg.wavelength_min
    x = (lam[None, :] - cfg.wavelength_min) / span  # 0..1 across the grid
    c_peak = 0.5 * (min(cfg.concentrations) + max(cfg.concentrations))

    def band(centre: torch.Tensor, width: float) -> torch.Tensor:
        return torch.exp(-0.5 * ((x - centre) / width) ** 2)

    # rises, peaks at c_peak, falls: the classic non-monotonic band (e.g. a dimer intermediate)
    a1 = 1.1 * (cc / c_peak) * torch.exp(1.0 - cc / c_peak)
    b1 = band(0.17 + jitter[0] / span, 0.06)
    # grows and red-shifts with concentration (aggregation)
    a2 = 0.55 * torch.tanh(2.0 * cc)
    b2 = band(0.55 + (jitter[1] + 45.0 * torch.tanh(1.5 * cc)) / span, 0.07 + 0.02 * cc)
    # oscillates once over the concentration range
    a3 = 0.35 + 0.3 * torch.sin(2.0 * math.pi * cc / (1.2 * float(c.max())) + jitter[2] / 10.0)
    b3 = band(0.85 + jitter[3] / span, 0.05)
    baseline = 0.05 * cc * (1.0 - 0.5 * x)
    clean = a1 * b1 + a2 * b2 + a3 * b3 + baseline
    noise = cfg.noise * torch.randn(clean.shape, generator=generator, device=device, dtype=f64)
    return Spectra(c.to(dtype), lam.to(dtype), (clean + noise).to(dtype).contiguous())


def load_spectra(path: str | Path, device: torch.device, dtype: torch.dtype) -> Spectra:
    """Read an .npz with arrays concentrations (C,), wavelengths (W,), spectra (C, W)."""
    path = Path(path)
    if not path.exists():
        raise ZetalabError(f"spectra file {path} does not exist", "check spectral.data.file")
    with np.load(path) as npz:
        missing = {"concentrations", "wavelengths", "spectra"} - set(npz.files)
        if missing:
            raise ZetalabError(
                f"{path} lacks the array(s) {sorted(missing)}",
                "save it with numpy.savez(path, concentrations=..., wavelengths=..., spectra=...)",
            )
        arrays = {k: torch.as_tensor(npz[k], dtype=dtype, device=device) for k in npz.files}
    return Spectra(arrays["concentrations"], arrays["wavelengths"], arrays["spectra"])


def save_spectra(path: str | Path, data: Spectra) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            concentrations=data.concentrations.cpu().numpy(),
            wavelengths=data.wavelengths.cpu().numpy(),
            spectra=data.spectra.cpu().numpy(),
        )


def make_spectra(cfg: DataConfig, seed: int, device: torch.device, dtype: torch.dtype) -> Spectra:
    if cfg.source == "file":
        if not cfg.file:
            raise ZetalabError(
                "spectral.data.source is 'file' but spectral.data.file is not set",
                "set spectral.data.file to an .npz, or use source: synthetic",
            )
        return load_spectra(cfg.file, device, dtype)
    return synthetic_spectra(cfg, seed, device, dtype)


def non_monotonic_fraction(data: Spectra) -> float:
    """Share of wavelengths at which A(c) goes both up and down across the concentrations."""
    steps = torch.diff(data.spectra, dim=0)
    ups = (steps > 0).any(dim=0)
    downs = (steps < 0).any(dim=0)
    return float((ups & downs).double().mean())


def ordered_transitions(n: int, device: torch.device) -> torch.Tensor:
    """All ordered pairs (i, j), i != j, as a (n(n-1), 2) index tensor: 30 for 6 spectra."""
    i, j = torch.meshgrid(
        torch.arange(n, device=device), torch.arange(n, device=device), indexing="ij"
    )
    keep = i != j
    return torch.stack([i[keep], j[keep]], dim=1).contiguous()

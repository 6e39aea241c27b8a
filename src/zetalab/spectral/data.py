"""Spectra: seeded synthetic generation on the device (seed cell 3), checks, transitions.

The synthetic absorbance follows one of four regimes that behave like real solutions
(``spectral.data.regime``, see ``regime_absorbance``): Beer-Lambert, a monomer-dimer
equilibrium, a band that shifts and broadens with concentration, and detector saturation. They
were fixed before any model was judged on them; docs/spectral.md gives their physics.

The noise is a spectrometer's (``photometric_variance``): a read-noise floor plus a term that
grows as 10^A, because the transmitted intensity I = I0 10^-A falls and a fixed intensity noise
is a growing share of it. Each regime draws from its own seed (``regime_seed``), so the four
regimes never share a noise vector.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
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
    # The noise model's variance per point (C, W) where it is known (synthetic data), else None.
    noise_variance: torch.Tensor | None = None
    # The noise-free signal (C, W) where it is known (synthetic data), else None.
    clean: torch.Tensor | None = None

    def __post_init__(self) -> None:
        check_spectra(self.concentrations, self.wavelengths, self.spectra)

    @property
    def n_concentrations(self) -> int:
        return int(self.concentrations.shape[0])

    @property
    def n_wavelengths(self) -> int:
        return int(self.wavelengths.shape[0])

    def to(self, device: torch.device, dtype: torch.dtype) -> Spectra:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, dtype).contiguous()

        return Spectra(
            self.concentrations.to(device, dtype).contiguous(),
            self.wavelengths.to(device, dtype).contiguous(),
            self.spectra.to(device, dtype).contiguous(),
            move(self.noise_variance),
            move(self.clean),
        )

    def subset(self, keep: list[int]) -> Spectra:
        """Only the concentrations with these indices (for leave-one-out training)."""
        index = torch.as_tensor(keep, device=self.concentrations.device)

        def pick(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t[index]

        return Spectra(
            self.concentrations[index],
            self.wavelengths,
            self.spectra[index],
            pick(self.noise_variance),
            pick(self.clean),
        )


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
    if bool((c <= 0).any()):
        raise ZetalabError(
            f"concentrations must be positive, got {c.tolist()}",
            "drop the blank (c = 0): the model maps c = 0 to A = 0 by construction",
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


def regime_seed(seed: int, regime: str) -> int:
    """The generator seed of one regime: `seed` mixed with a stable hash of the regime's name.

    So the four regimes draw independent jitter and noise (one shared noise vector would make
    their errors correlated), and the same regime always gets the same draw.
    """
    return (seed * 1_000_003 + zlib.crc32(regime.encode())) % 2**63


def photometric_variance(absorbance: torch.Tensor, floor: float, intensity: float):
    """Variance of a measured absorbance: sigma^2 = floor^2 + (intensity 10^A / ln 10)^2.

    The detector sees I = I0 10^-A. A noise of fixed size sigma_I on I, `intensity` = sigma_I/I0,
    becomes sigma_A = sigma_I / (I ln 10) = intensity 10^A / ln 10 in absorbance, growing as the
    light falls; `floor` is the read-noise / reference floor that dominates at low A. The
    noise-free absorbance enters (clipped at 0), so the variance is a property of the sample,
    not of its noisy reading.
    """
    grow = intensity * torch.pow(10.0, absorbance.clamp(min=0.0)) / math.log(10.0)
    return floor * floor + grow * grow


def synthetic_spectra(
    cfg: DataConfig, seed: int, device: torch.device, dtype: torch.dtype = torch.float32
) -> Spectra:
    """The configured regime's spectra, generated on `device` in one broadcast expression.

    Band positions jitter with the regime's seed (a few nm); the clean signal is computed in
    float64 and cast, so it is the same on every device; the photometric noise (and the optional
    baseline drift, a random offset and slope per spectrum) comes from a generator on `device`,
    so CPU and CUDA draw different (each reproducible) noise.
    """
    generator = torch.Generator(device=device).manual_seed(regime_seed(seed, cfg.regime))
    f64 = torch.float64
    c = torch.as_tensor(cfg.concentrations, device=device, dtype=f64)
    lam = wavelength_grid(cfg, device, f64)
    jitter = (torch.rand(4, generator=generator, device=device, dtype=f64) - 0.5) * 0.02
    x = (lam - cfg.wavelength_min) / (cfg.wavelength_max - cfg.wavelength_min)
    clean = regime_absorbance(cfg.regime, c, x, jitter)
    variance = photometric_variance(clean, cfg.noise, cfg.noise_intensity)
    noise = variance.sqrt() * torch.randn(
        clean.shape, generator=generator, device=device, dtype=f64
    )
    drift = torch.zeros_like(clean)
    if cfg.drift > 0:
        offset_slope = cfg.drift * torch.randn(
            (c.shape[0], 2), generator=generator, device=device, dtype=f64
        )
        drift = offset_slope[:, :1] + offset_slope[:, 1:] * (x[None, :] - 0.5)
    return Spectra(
        c.to(dtype),
        lam.to(dtype),
        (clean + noise + drift).to(dtype).contiguous(),
        variance.to(dtype).contiguous(),
        clean.to(dtype).contiguous(),
    )


def _band(x: torch.Tensor, centre, width) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - centre) / width) ** 2)


# The physical constants of the regimes, fixed before any model was judged on them (their
# physics is written in docs/spectral.md). Concentrations are in units of the default range
# 0.1..1.1; x is the wavelength mapped to 0..1 across the grid.
DIMERISATION_K = 10.0  # K_d = [D] / [M]^2; the monomer share falls from ~50 % to ~20 %
SHIFT_TOTAL, SHIFT_HALF = 0.3, 0.6  # band centre x0 + 0.3 c / (c + 0.6): a binding isotherm
STRAY_LIGHT = 0.005  # fraction of stray light: the reading saturates near A = 2.3


def epsilon_beer_lambert(x: torch.Tensor, jitter: torch.Tensor) -> torch.Tensor:
    """Molar absorptivity of one species: three bands across the grid."""
    return (
        1.0 * _band(x, 0.22 + jitter[0], 0.06)
        + 0.7 * _band(x, 0.5 + jitter[1], 0.08)
        + 0.45 * _band(x, 0.8 + jitter[2], 0.05)
    )


def monomer_fraction_terms(c: torch.Tensor, k: float = DIMERISATION_K):
    """[M] and [D] of 2 M <-> D with K = [D]/[M]^2 at total monomer units c = [M] + 2 [D]."""
    m = (torch.sqrt(1.0 + 8.0 * k * c) - 1.0) / (4.0 * k)
    return m, k * m * m


def monomer_dimer_absorptivities(x: torch.Tensor, jitter: torch.Tensor):
    """eps_M per monomer and eps_D per dimer: the dimer band is blue-shifted (H-aggregate)."""
    eps_m = 1.0 * _band(x, 0.55 + jitter[0], 0.07) + 0.5 * _band(x, 0.2 + jitter[1], 0.05)
    eps_d = 1.7 * _band(x, 0.42 + jitter[0], 0.06) + 0.7 * _band(x, 0.2 + jitter[1], 0.05)
    return eps_m, eps_d


def band_shift_parameters(c: torch.Tensor, jitter: torch.Tensor):
    """Centre, width and height of the band that shifts and broadens with c (area grows as c)."""
    centre = 0.3 + jitter[0] + SHIFT_TOTAL * c / (c + SHIFT_HALF)
    width = 0.035 * (1.0 + 0.8 * c)
    height = 1.2 * c * 0.035 / width
    return centre, width, height


def regime_absorbance(
    regime: str, c: torch.Tensor, x: torch.Tensor, jitter: torch.Tensor
) -> torch.Tensor:
    """Noise-free absorbance (C, W) of one regime at concentrations c (C,) and positions x (W,).

    - ``beer_lambert``: A = c eps(lambda), exactly linear in c.
    - ``monomer_dimer``: 2 M <-> D; A = eps_M [M] + eps_D [D], the [M] ~ sqrt(c) curvature of
      the equilibrium, with an isosbestic point in A / c where eps_D = 2 eps_M.
    - ``band_shift``: one band moves to longer wavelength and broadens as c rises (solvation,
      aggregation), its area proportional to c; a second band obeys Beer-Lambert.
    - ``saturation``: strong Beer-Lambert bands read through a detector with stray light,
      A = -log10((10^-A_true + s) / (1 + s)): linear at low A, flattening near -log10(s).
    """
    cc = c[:, None]
    xx = x[None, :]
    if regime == "beer_lambert":
        return cc * epsilon_beer_lambert(xx, jitter)
    if regime == "monomer_dimer":
        m, d = monomer_fraction_terms(cc)
        eps_m, eps_d = monomer_dimer_absorptivities(xx, jitter)
        return eps_m * m + eps_d * d
    if regime == "band_shift":
        centre, width, height = band_shift_parameters(cc, jitter)
        fixed = 0.35 * cc * _band(xx, 0.85 + jitter[2], 0.04)
        return height * _band(xx, centre, width) + fixed
    if regime == "saturation":
        true = 2.5 * cc * epsilon_beer_lambert(xx, jitter)
        s = STRAY_LIGHT
        return -torch.log10((torch.pow(10.0, -true) + s) / (1.0 + s))
    raise ZetalabError(
        f"unknown spectral.data.regime {regime!r}",
        "use beer_lambert, monomer_dimer, band_shift or saturation",
    )


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
    return Spectra(
        arrays["concentrations"],
        arrays["wavelengths"],
        arrays["spectra"],
        arrays.get("noise_variance"),
        arrays.get("clean"),
    )


def save_spectra(path: str | Path, data: Spectra) -> None:
    """The three arrays, plus the noise variance and the clean signal where they are known."""
    extra = {
        name: t.cpu().numpy()
        for name, t in (("noise_variance", data.noise_variance), ("clean", data.clean))
        if t is not None
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            concentrations=data.concentrations.cpu().numpy(),
            wavelengths=data.wavelengths.cpu().numpy(),
            spectra=data.spectra.cpu().numpy(),
            **extra,
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


def non_monotonic_fraction(data: Spectra) -> float | None:
    """Share of wavelengths at which the noise-free A(c) goes both up and down across c.

    Measured on the clean signal: on the noisy one, wavelengths where A is near zero flip sign
    with the noise and would count as non-monotonic. Steps smaller than 1e-9 of the largest |A|
    (floating-point fuzz) count as flat. None for file data (no clean signal is known).
    """
    if data.clean is None:
        return None
    clean = data.clean.double()
    steps = torch.diff(clean, dim=0)
    tol = 1e-9 * float(clean.abs().max())
    ups = (steps > tol).any(dim=0)
    downs = (steps < -tol).any(dim=0)
    return float((ups & downs).double().mean())


def ordered_transitions(n: int, device: torch.device) -> torch.Tensor:
    """All ordered pairs (i, j), i != j, as a (n(n-1), 2) index tensor: 30 for 6 spectra."""
    i, j = torch.meshgrid(
        torch.arange(n, device=device), torch.arange(n, device=device), indexing="ij"
    )
    keep = i != j
    return torch.stack([i[keep], j[keep]], dim=1).contiguous()

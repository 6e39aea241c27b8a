"""The zero engine: γ_n (imaginary parts of the nontrivial zeros of ζ) computed in verified chunks.

Backends: `rs` (fast Riemann–Siegel, completeness proved with Arb), `flint` (certified Arb
enclosures), `mpmath` (reference) and `file` (import a published table). Zeros are stored as an
exact integer reference per block plus float64 offsets (`zetalab.zeros.heights`); chunks and
aggregates are read and written through `zetalab.zeros.store`, and later stages call
`store.load_zeros` (accurate unfolding at any height) or `store.load_aggregate` (float64 heights).
"""

from zetalab.zeros.store import load_aggregate, load_zeros

__all__ = ["load_aggregate", "load_zeros"]

"""The zero engine: γ_n (imaginary parts of the nontrivial zeros of ζ) computed in verified chunks.

Backends: `rs` (fast Riemann–Siegel, completeness proved with Arb), `flint` (certified Arb
enclosures), `mpmath` (reference) and `file` (import a published table). Chunks and aggregates
are read and written through `zetalab.zeros.store`; later stages call `store.load_aggregate`.
"""

from zetalab.zeros.store import load_aggregate

__all__ = ["load_aggregate"]

"""zetalab: the package behind the Snakemake workflow (Study Z and Study S)."""

__version__ = "0.1.0"

# zetalab: Study Z (zeta zeros -> prime graphs -> GNNs, baselines, A/B verdict, sweeps)
# and Study S (geodesic-coupled spectral neural ODE). See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/cloud.smk"
include: "rules/zeros.smk"
include: "rules/graph.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/sweeps.smk"
include: "rules/spectral.smk"


rule all:
    default_target: True
    input:
        default_targets(),

"""The phased hyperparameter swarm (SPEC §8, seed 002) as sweep files in the Snakemake DAG.

A sweep is one YAML file under `config/sweeps/`; each of its trials is an ordinary training
run registered as a `cfg` of the run registry, so on the cloud each trial is one machine of the
swarm. Bayesian rounds are proposed by a rule that rebuilds a seeded Optuna study from the
result files of the earlier rounds, which keeps the DAG static and every rerun identical.
"""

from zetalab.sweeps.spec import SweepSpec, load_sweeps
from zetalab.sweeps.trials import Trial, expand_trials

__all__ = ["SweepSpec", "Trial", "expand_trials", "load_sweeps"]

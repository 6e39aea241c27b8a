# Rules of the train stage: one job per (cfg, variant, seed) (SPEC §6). A run's config is the
# main config + the overrides named by cfg (RUN_CONFIGS / RUN_CONFIG_FILES in common.smk) + the
# variant (train.variants); zetalab.learning.runconfig resolves and validates it, and
# zetalab.learning.workflow derives the job's inputs from it.
import functools

TRAIN_VARIANTS: list[str] = list(config["train"]["variants"])
TRAIN_SEEDS: list[int] = list(config["train"]["seeds"])

# train_outputs(cfg, variants, seeds, name="metrics.json"): files of the runs of cfg.
train_outputs = functools.partial(learning_paths.train_outputs, run_dir)

# Every static run config resolves now with every variant, so a bad override (w_rg > 0 on a
# minibatch variant, a non-prime, too many partitions) stops the workflow before any job.
# Run configs registered later (sweeps) are checked when their jobs' inputs are computed,
# which is still before any job runs.
try:
    for _cfg in list(RUN_CONFIGS):
        for _variant in TRAIN_VARIANTS:
            learning_paths.static_run_config(config, RUN_REGISTRY, _cfg, _variant)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None


rule run_config:
    output:
        "results/run_configs/{cfg}.json",
    log:
        "logs/run_config/{cfg}.log",
    wildcard_constraints:
        cfg=r"[^/]+",
    conda:
        "../envs/learning.yaml"
    params:
        overrides=lambda wildcards: RUN_CONFIGS[wildcards.cfg],
    script:
        "../scripts/run_config.py"


rule train:
    input:
        unpack(
            lambda wildcards: learning_paths.train_inputs(
                config, RUN_REGISTRY, wildcards.cfg, wildcards.variant, zeros_aggregate_path
            )
        ),
    output:
        metrics="results/runs/{cfg}/{variant}/seed{seed}/metrics.json",
        history="results/runs/{cfg}/{variant}/seed{seed}/history.csv",
        predictions="results/runs/{cfg}/{variant}/seed{seed}/predictions.npz",
    log:
        "logs/train/{cfg}/{variant}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/train/{cfg}/{variant}/seed{seed}.tsv"
    wildcard_constraints:
        cfg=r"[^/]+",
        variant=r"[^/]+",
        seed=r"\d+",
    conda:
        "../envs/learning.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: learning_paths.train_mem_mb(
            config, RUN_REGISTRY, wildcards.cfg, wildcards.variant
        ),
        runtime=60,
    params:
        # A sweep trial that crashes is recorded as "failed" so the swarm goes on.
        record_failure=lambda wildcards: wildcards.cfg.startswith("sweep-"),
    script:
        "../scripts/train.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(train_outputs("ab", TRAIN_VARIANTS, TRAIN_SEEDS))

# Rules of the train stage: one job per (cfg, variant, seed) (SPEC §6). A run's config is the
# main config + the overrides named by cfg (RUN_CONFIGS / RUN_CONFIG_FILES in common.smk) + the
# variant (train.variants); zetalab.learning.runconfig resolves and validates it, and
# zetalab.learning.workflow derives the job's inputs from it.
TRAIN_VARIANTS: list[str] = list(config["train"]["variants"])
TRAIN_SEEDS: list[int] = list(config["train"]["seeds"])

# Every static run config resolves now with every variant, so a bad override (w_rg > 0 on a
# minibatch variant, a non-prime, too many partitions) stops the workflow before any job.
# Run configs registered later (sweeps) are checked when their jobs' inputs are computed,
# which is still before any job runs.
try:
    for _cfg in list(RUN_CONFIGS):
        for _variant in TRAIN_VARIANTS:
            learning_workflow.static_run_config(config, RUN_REGISTRY, _cfg, _variant)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None


rule run_config:
    output:
        zpaths.RUN_CONFIG,
    log:
        "logs/run_config/{cfg}.log",
    wildcard_constraints:
        cfg=zpaths.WILDCARDS["cfg"],
    conda:
        "../envs/learning.yaml"
    params:
        overrides=lambda wildcards: RUN_CONFIGS[wildcards.cfg],
    script:
        "../scripts/run_config.py"


rule train:
    input:
        unpack(
            lambda wildcards: learning_workflow.train_inputs(
                config, RUN_REGISTRY, wildcards.cfg, wildcards.variant, zeros_aggregate_path
            )
        ),
    output:
        metrics=zpaths.RUN_METRICS,
        history=zpaths.RUN_HISTORY,
        predictions=zpaths.RUN_PREDICTIONS,
        windows=zpaths.RUN_WINDOWS,
    log:
        "logs/train/{cfg}/{variant}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/train/{cfg}/{variant}/seed{seed}.tsv"
    wildcard_constraints:
        cfg=zpaths.WILDCARDS["cfg"],
        variant=zpaths.WILDCARDS["variant"],
        seed=zpaths.WILDCARDS["seed"],
    conda:
        "../envs/learning.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: learning_workflow.train_mem_mb(
            config, RUN_REGISTRY, wildcards.cfg, wildcards.variant
        ),
        runtime=60,
    params:
        # A sweep trial that crashes is recorded as "failed" so the swarm goes on.
        record_failure=lambda wildcards: wildcards.cfg.startswith("sweep-"),
        # What the run's results depend on: a change reruns it (and only it), see
        # zetalab.learning.runconfig.result_settings.
        settings=lambda wildcards: learning_workflow.train_settings(
            config, RUN_REGISTRY, wildcards.cfg, wildcards.variant
        ),
    script:
        "../scripts/train.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(
    zpaths.run_files("ab", TRAIN_VARIANTS, TRAIN_SEEDS, "metrics.json")
)

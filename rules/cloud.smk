# Cloud and cluster support (docs/cloud.md, README "Running on a SLURM cluster").
#
# 1. Preflight: with the gcp-batch profile (zetalab-batch executor, gcs storage), stop at parse
#    time, before anything is uploaded or submitted, if a variable is missing, the bucket is
#    unreachable or the reference table is absent. On a Batch worker, refuse to run when the
#    image's installed zetalab differs from the uploaded sources. Does nothing for local runs.
# 2. The Odlyzko reference table travels with zeros_check through storage on runs without a
#    shared file system (a local rule copies it into the bucket; zeros_check declares it).
# 3. `snakemake --profile gcp-batch gpu_smoke`: what torch sees on each GPU machine type.
# 4. Before the first job is submitted (onstart, after the DAG is built): the planned jobs'
#    GPUs exist in the Batch region; on SLURM their partitions exist, GPU-class rules have a
#    gres, and the account is unambiguous (zetalab.cloud.plan).
from zetalab.cloud.gpu import GPU_MACHINES
from zetalab.cloud.plan import check_plan
from zetalab.cloud.preflight import run_for_workflow

try:
    run_for_workflow(workflow)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None


onstart:
    try:
        check_plan(workflow)
    except ZetalabError as error:
        raise WorkflowError(str(error)) from None


ODLYZKO_TABLE = config["zeros"]["odlyzko_table"]
# Workers that share no file system with this machine (default storage) get the table as a
# storage input; elsewhere zeros_check reads the configured path as before.
ODLYZKO_STAGED = "data/reference/odlyzko_table.txt"
ODLYZKO_INPUT = (
    ODLYZKO_STAGED if ODLYZKO_TABLE and workflow.storage_settings.default_storage_provider else []
)


rule zeros_reference:
    """Copy the reference table into the workflow's storage, for zeros_check on a worker."""
    input:
        local(ODLYZKO_TABLE),
    output:
        ODLYZKO_STAGED,
    log:
        "logs/zeros/reference.log",
    localrule: True
    conda:
        "../envs/zeros.yaml"
    shell:
        "cp {input} {output} 2> {log}"


rule gpu_smoke_device:
    """What torch sees on one GPU machine type: device, CUDA, driver, memory, threads."""
    output:
        "results/cloud/gpu_smoke/{machine}.json",
    log:
        "logs/cloud/gpu_smoke/{machine}.log",
    wildcard_constraints:
        machine="|".join(GPU_MACHINES),
    conda:
        "../envs/learning.yaml"
    script:
        "../scripts/gpu_smoke.py"


rule gpu_smoke:
    """One GPU smoke job per GPU machine type of the cloud profile, summarised in a table."""
    input:
        expand("results/cloud/gpu_smoke/{machine}.json", machine=list(GPU_MACHINES)),
    output:
        "results/cloud/gpu_smoke.tsv",
    log:
        "logs/cloud/gpu_smoke.log",
    localrule: True
    conda:
        "../envs/learning.yaml"
    script:
        "../scripts/gpu_smoke_summary.py"


rule cloud_retry_check:
    """Fails on purpose (exit 1) as a spot job: Batch must run it exactly once (docs/cloud.md,
    First run: checklist). Each try prints Batch's retry counter to the job's log."""
    output:
        "results/cloud/retry_check.txt",
    log:
        "logs/cloud/retry_check.log",
    conda:
        "../envs/zeros.yaml"
    shell:
        'echo "zetalab retry check: attempt ${{BATCH_TASK_RETRY_ATTEMPT:-unset}}" | tee {log}; exit 1'

# Rules of the zeros stage (SPEC §3): aligned chunks -> verified aggregate -> check.
# Below zero 10^8 chunk k covers zeros k*chunk_size+1 .. (k+1)*chunk_size; above, chunks grow
# with the height (store.chunk_bands) so a job's start-up is paid once per 10^5-10^6 zeros.
# Aligned chunks let aggregates of different sizes share chunk files, and a rerun after a
# failure recomputes only the missing chunks.
# Chunk indices beyond 10^12 get longer names (store.INDEX_PATTERN); only settings that change
# a rule's output are its params (a changed one reruns it and what follows).
from zetalab.zeros.store import INDEX_PATTERN, aggregate_chunk_files, meta_path

ZEROS_CHUNK_SIZE = config["zeros"]["chunk_size"]

# A `file` table too short for the last aligned chunk fails here, before any chunk job starts.
if BACKEND == "file" and config["zeros"].get("table"):
    from zetalab.zeros.file_backend import check_table_covers
    from zetalab.zeros.store import chunk_ranges

    try:
        last_end = max(
            chunk_ranges(count, ZEROS_CHUNK_SIZE, first)[-1].end
            for first, count in zero_ranges(config)
        )
        check_table_covers(config["zeros"]["table"], last_end)
    except ZetalabError as error:
        raise WorkflowError(str(error)) from None


rule zeros_chunk:
    output:
        npy="data/zeros/{backend}/chunk_{start}_{end}.npy",
        meta="data/zeros/{backend}/chunk_{start}_{end}.json",
    log:
        "logs/zeros/chunk_{backend}_{start}_{end}.log",
    benchmark:
        "logs/benchmarks/zeros/chunk_{backend}_{start}_{end}.tsv"
    wildcard_constraints:
        backend="rs|flint|mpmath|file",
        start=INDEX_PATTERN,
        end=INDEX_PATTERN,
    conda:
        "../envs/zeros.yaml"
    # rs splits its evaluation points and the Odlyzko–Schönhage spreading over these
    threads: 2
    params:
        # the table only shapes file-backend chunks: changing it leaves rs/flint chunks alone
        table=lambda wildcards: (config["zeros"]["table"] if wildcards.backend == "file" else None),
    script:
        "../scripts/zeros_chunk.py"


rule zeros_aggregate:
    input:
        chunks=lambda wildcards: aggregate_chunk_files(
            wildcards.backend, int(wildcards.total), ZEROS_CHUNK_SIZE
        ),
        # The JSON records are read too: declared so remote storage stages them.
        metas=lambda wildcards: [
            str(meta_path(chunk))
            for chunk in aggregate_chunk_files(
                wildcards.backend, int(wildcards.total), ZEROS_CHUNK_SIZE
            )
        ],
    output:
        npy="data/zeros/{backend}/zeros_{total}.npy",
        manifest="data/zeros/{backend}/zeros_{total}.manifest.json",
    log:
        "logs/zeros/aggregate_{backend}_{total}.log",
    benchmark:
        "logs/benchmarks/zeros/aggregate_{backend}_{total}.tsv"
    wildcard_constraints:
        backend="rs|flint|mpmath|file",
        total=r"\d+",
    conda:
        "../envs/zeros.yaml"
    params:
        chunk_size=ZEROS_CHUNK_SIZE,
    script:
        "../scripts/zeros_aggregate.py"


rule zeros_aggregate_from:
    """Zeros first..first+total−1 (dataset.start > 1, a height-shift window): only the aligned
    chunks that cover them are inputs, so nothing below `first` is computed."""
    input:
        chunks=lambda wildcards: aggregate_chunk_files(
            wildcards.backend, int(wildcards.total), ZEROS_CHUNK_SIZE, first=int(wildcards.first)
        ),
        metas=lambda wildcards: [
            str(meta_path(chunk))
            for chunk in aggregate_chunk_files(
                wildcards.backend,
                int(wildcards.total),
                ZEROS_CHUNK_SIZE,
                first=int(wildcards.first),
            )
        ],
    output:
        npy=ZEROS_FROM,
        manifest=ZEROS_FROM.removesuffix(".npy") + ".manifest.json",
    log:
        "logs/zeros/aggregate_{backend}_from{first}_{total}.log",
    benchmark:
        "logs/benchmarks/zeros/aggregate_{backend}_from{first}_{total}.tsv"
    wildcard_constraints:
        backend="rs|flint|mpmath|file",
        first=r"\d+",
        total=r"\d+",
    conda:
        "../envs/zeros.yaml"
    params:
        chunk_size=ZEROS_CHUNK_SIZE,
    script:
        "../scripts/zeros_aggregate.py"


rule zeros_check:
    input:
        npy="data/zeros/{backend}/zeros_{total}.npy",
        manifest="data/zeros/{backend}/zeros_{total}.manifest.json",
        # the reference table, staged through storage where workers share no file system
        odlyzko=ODLYZKO_INPUT,
    output:
        report(
            "results/zeros/check_{backend}_{total}.json",
            caption="../report/zeros_check.rst",
            category="Zeros",
        ),
    log:
        "logs/zeros/check_{backend}_{total}.log",
    wildcard_constraints:
        backend="rs|flint|mpmath|file",
        total=r"\d+",
    conda:
        "../envs/zeros.yaml"
    params:
        sample=config["zeros"]["check_sample"],
        odlyzko=config["zeros"]["odlyzko_table"],
    script:
        "../scripts/zeros_check.py"


# The check compares zeros 1..M with Odlyzko's table and flint; a study that starts higher
# (dataset.start > 1) rests on its chunks' own count checks and computes nothing below start.
if ZEROS_FIRST == 1:
    DEFAULT_TARGETS.setdefault("study_z", []).append(
        f"results/zeros/check_{BACKEND}_{ZEROS_SPAN}.json"
    )

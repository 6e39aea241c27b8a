# Rules of the sweeps stage: the phased hyperparameter swarm (SPEC §8, seed 002).
# Every YAML file in sweeps.dir is one sweep; each of its trials is an ordinary `train` job
# (cfg sweep-<name>-<trial>, registered below), so on the cloud each trial is one machine of
# the swarm. Bayesian rounds are proposed by sweep_propose from the earlier rounds' results,
# so the DAG is static. See docs/sweeps.md.
import json

from zetalab.config import deep_merge
from zetalab.sweeps.layout import SUMMARY_CSV, SUMMARY_MD
from zetalab.sweeps.plan import SweepPlan, phase_order, resolve_sweeps_dir

SWEEPS_DIR = resolve_sweeps_dir(config["sweeps"]["dir"], Path.cwd(), Path(workflow.basedir))
try:
    SWEEP_PLAN = SweepPlan.load(SWEEPS_DIR, config, run_dir("{cfg}", "{variant}", "{seed}"))
except ZetalabError as error:
    raise WorkflowError(str(error)) from None

_SWEEP_GRAPH_FILES: dict[tuple[str, str], list[str]] = {}


def sweep_graph_files(trial) -> list[str]:
    """Graph/partition files of every prime set a trial may pick at run time.

    A trial that freezes graph.primes to an earlier phase's winner only learns its primes
    when it runs; all candidate sets are known from that phase's grid, so their files are
    inputs and the DAG stays static. Each candidate's primes and partition size are checked
    here, before any job starts (the sweep files' values were checked against the schema).
    """
    files: list[str] = []
    for alternative in trial.static_alternatives():
        graph_part = {k: v for k, v in alternative.items() if k in ("dataset", "graph")}
        for variant in trial.variants:
            key = (json.dumps(graph_part, sort_keys=True), variant)
            if key not in _SWEEP_GRAPH_FILES:
                view = sweep_run_view(graph_part, variant)
                ds = view["dataset"]
                try:
                    validate_primes(view["graph"]["primes"])
                    check_num_parts(
                        view["graph"]["partition"]["num_parts"], ds["N"] + 2 * ds["horizon"]
                    )
                except ZetalabError as error:
                    path = SWEEP_PLAN.specs[trial.sweep].path
                    raise WorkflowError(
                        f"sweep file {path}: trial {trial.cfg} ({variant}): {error}"
                    ) from None
                _SWEEP_GRAPH_FILES[key] = run_graph_files(view)
            files += [f for f in _SWEEP_GRAPH_FILES[key] if f not in files]
    return files


def sweep_run_view(overrides: dict, variant: str) -> dict:
    """Main config + overrides + variant, merged as zetalab.runconfig does, without the
    schema pass (too slow to repeat per trial at parse time; the values were checked)."""
    variant_spec = dict(config["train"]["variants"][variant])
    kind = variant_spec.pop("kind")
    view = deep_merge(deep_merge(config, overrides), variant_spec)
    view["run"] = {"variant": variant, "kind": kind}
    return view


for _trial in SWEEP_PLAN.all_trials():
    RUN_CONFIGS[_trial.cfg] = _trial.overrides
    RUN_CONFIG_INPUTS[_trial.cfg] = [*_trial.inputs, *sweep_graph_files(_trial)]

SWEEP_OUTPUTS = [f for name in phase_order(SWEEP_PLAN.specs) for f in SWEEP_PLAN.outputs(name)]
SWEEP_OUTPUTS += [SUMMARY_CSV, SUMMARY_MD]
if config["sweeps"]["enabled"]:
    DEFAULT_TARGETS.setdefault("study_z", []).extend(SWEEP_OUTPUTS)


rule sweeps:
    """Every sweep: all trials, leaderboards, progress plots and the summary."""
    input:
        SWEEP_OUTPUTS,
    log:
        "logs/sweeps/sweeps.log",
    localrule: True
    conda:
        "../envs/learning.yaml"
    params:
        n=len(SWEEP_PLAN.specs),
    shell:
        "echo 'built {params.n} sweeps; see results/sweeps/summary.md' > {log}"


rule sweep_propose:
    """One Bayesian round's trials, from a seeded study rebuilt from the earlier rounds."""
    input:
        lambda w: SWEEP_PLAN.proposal_inputs(w.sweep, int(w.round)),
    output:
        "results/sweeps/{sweep}/round{round}/proposal.json",
    log:
        "logs/sweeps/{sweep}/propose_round{round}.log",
    wildcard_constraints:
        sweep=r"[a-z][a-z0-9]*",
        round=r"\d+",
    localrule: True
    conda:
        "../envs/learning.yaml"
    params:
        dir=str(SWEEPS_DIR),
        run_dir=lambda w: SWEEP_PLAN.run_dir,
        space=lambda w: SWEEP_PLAN.proposal_fingerprint(w.sweep),
    script:
        "../scripts/sweep_propose.py"


rule sweep_collect:
    """A sweep's runs and trials ranked, its winner (best.json) and ranking (top.json)."""
    input:
        lambda w: SWEEP_PLAN.collect_inputs(w.sweep),
    output:
        runs="results/sweeps/{sweep}/runs.csv",
        trials="results/sweeps/{sweep}/trials.csv",
        best="results/sweeps/{sweep}/best.json",
        top="results/sweeps/{sweep}/top.json",
    log:
        "logs/sweeps/{sweep}/collect.log",
    wildcard_constraints:
        sweep=r"[a-z][a-z0-9]*",
    localrule: True
    conda:
        "../envs/learning.yaml"
    params:
        dir=str(SWEEPS_DIR),
        run_dir=lambda w: SWEEP_PLAN.run_dir,
    script:
        "../scripts/sweep_collect.py"


rule sweep_report:
    """A sweep's top-10 leaderboard and its progress plot (objective, best so far)."""
    input:
        "results/sweeps/{sweep}/trials.csv",
        lambda w: SWEEP_PLAN.collect_inputs(w.sweep),
    output:
        leaderboard=report(
            "results/sweeps/{sweep}/leaderboard.csv",
            caption="../report/sweep_leaderboard.rst",
            category="Sweeps",
            subcategory="{sweep}",
        ),
        markdown="results/sweeps/{sweep}/leaderboard.md",
        progress=report(
            "results/sweeps/{sweep}/progress.png",
            caption="../report/sweep_progress.rst",
            category="Sweeps",
            subcategory="{sweep}",
        ),
    log:
        "logs/sweeps/{sweep}/report.log",
    wildcard_constraints:
        sweep=r"[a-z][a-z0-9]*",
    localrule: True
    conda:
        "../envs/learning.yaml"
    params:
        dir=str(SWEEPS_DIR),
        run_dir=lambda w: SWEEP_PLAN.run_dir,
    script:
        "../scripts/sweep_report.py"


rule sweep_summary:
    """The winner of every phase, in the order the phases build on each other."""
    input:
        [f"results/sweeps/{name}/best.json" for name in phase_order(SWEEP_PLAN.specs)],
    output:
        csv=report(SUMMARY_CSV, caption="../report/sweep_summary.rst", category="Sweeps"),
        md=SUMMARY_MD,
    log:
        "logs/sweeps/summary.log",
    localrule: True
    conda:
        "../envs/learning.yaml"
    script:
        "../scripts/sweep_summary.py"

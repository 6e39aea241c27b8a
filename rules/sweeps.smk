# Rules of the sweeps stage: the phased hyperparameter swarm (SPEC §8, seed 002).
# Every YAML file in sweeps.dir is one sweep; each of its trials is an ordinary `train` job
# (cfg sweep-<name>-<trial>, registered below), so on the cloud each trial is one machine of
# the swarm. Bayesian rounds are proposed by sweep_propose from the earlier rounds' results,
# so the DAG is static. See docs/sweeps.md.
from zetalab.sweeps.layout import SUMMARY_CSV, SUMMARY_MD
from zetalab.sweeps.plan import SweepPlan, phase_order, resolve_sweeps_dir
from zetalab.sweeps.registry import register_trials

SWEEPS_DIR = resolve_sweeps_dir(config["sweeps"]["dir"], Path.cwd(), Path(workflow.basedir))
try:
    SWEEP_PLAN = SweepPlan.load(SWEEPS_DIR, config, zpaths.RUN_DIR)
    register_trials(SWEEP_PLAN, config, RUN_CONFIGS, RUN_CONFIG_INPUTS)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None

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
        # How trials are ranked: a change re-ranks without retraining.
        ranking=lambda w: SWEEP_PLAN.ranking_settings(w.sweep),
    script:
        "../scripts/sweep_collect.py"


rule sweep_report:
    """A sweep's top-10 leaderboard and its progress plot (objective, best so far)."""
    input:
        "results/sweeps/{sweep}/trials.csv",
        lambda w: SWEEP_PLAN.report_inputs(w.sweep),
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
        # How trials are ranked: a change re-ranks without retraining.
        ranking=lambda w: SWEEP_PLAN.ranking_settings(w.sweep),
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

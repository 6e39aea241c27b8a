"""What profiles/slurm needs from the cluster: the user's account, and its partitions.

Why: the SLURM plugin (2.8.0) guesses a missing account with
`sacct -nu USER -o Account%256 | tail -1`, split by shlex, so sacct receives `|`, `tail` and
`-1` as arguments; on most clusters the guess ends without an account, and sbatch then refuses
every job of a cluster that requires one. The profile asks sacctmgr for the user's default
account instead (their only association's account when no default is set). And a partition
name or a gres that the cluster does not have makes sbatch refuse a job only when it is
submitted, hours into a run; zetalab.cloud.plan compares them with `sinfo` before the first
job is submitted.
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Callable, Sequence

Runner = Callable[[Sequence[str]], str | None]

ACCOUNT_VAR = "ZETALAB_SLURM_ACCOUNT"


def run_command(command: Sequence[str], timeout: float = 30.0) -> str | None:
    """The command's output, or None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def associated_accounts(run: Runner = run_command, user: str | None = None) -> list[str]:
    """The accounts the user may submit to (sacctmgr associations), sorted."""
    user = user or getpass.getuser()
    out = run(["sacctmgr", "-n", "-P", "show", "associations", f"user={user}", "format=Account"])
    return sorted({line.lower() for line in _lines(out)})


def find_account(run: Runner = run_command, user: str | None = None) -> str | None:
    """The user's default account, else the one account they are associated with, else None.

    None also when sacctmgr is missing (no accounting: sbatch needs no account) or when the
    user has several accounts and no default (zetalab.cloud.plan then asks for one by name).
    """
    user = user or getpass.getuser()
    out = run(["sacctmgr", "-n", "-P", "show", "user", user, "format=DefaultAccount"])
    default = next(iter(_lines(out)), "")
    if default and default.lower() not in ("(null)", "none"):
        return default
    accounts = associated_accounts(run, user)
    return accounts[0] if len(accounts) == 1 else None


def listed_partitions(run: Runner = run_command) -> set[str] | None:
    """The partitions `sinfo` lists (the default's `*` removed); None when sinfo cannot run."""
    out = run(["sinfo", "-h", "-o", "%P"])
    if out is None:
        return None
    return {name.rstrip("*") for name in out.split()}

"""What a Study Z checkpoint holds, so a killed run resumes exactly where it stopped.

Besides model, optimiser and schedule, the states of every seeded generator (hidden masks and
cluster order, MMD subsamples, torch's global one) are saved: without them a resumed run would
draw other masks than an uninterrupted one. The best epoch so far (its score, its weights and
the epochs since it) is saved too, so a resumed run stops and keeps exactly what an
uninterrupted one would. The config hash keeps a run from resuming another config's checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zetalab.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from zetalab.learning.stopping import BestEpoch

log = logging.getLogger("zetalab.learning")


@dataclass
class TrainState:
    """Epochs done, their history rows, the training seconds spent so far and the best epoch."""

    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0
    best: BestEpoch = field(default_factory=BestEpoch)


@dataclass
class Resumable:
    """Everything a checkpoint saves and restores besides the TrainState."""

    key: str
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    rng: np.random.Generator
    generator: torch.Generator

    def save(self, path: Path, state: TrainState) -> None:
        save_checkpoint(
            path,
            {
                "config_hash": self.key,
                "epoch": state.epoch,
                "elapsed": state.elapsed,
                "history": state.history,
                "best": state.best.to_dict(),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "np_rng": self.rng.bit_generator.state,
                "mmd_gen": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
            },
        )

    def restore(self, path: Path, device: torch.device) -> TrainState | None:
        """Load the checkpoint at `path`; None if absent, unreadable or of another config."""
        try:
            blob = load_checkpoint(path, device)
        except CheckpointError as error:  # another torch version, a bad disk
            log.warning("ignoring %s; starting afresh", error.problem)
            return None
        if blob is None:
            return None
        if blob.get("config_hash") != self.key or "best" not in blob:
            log.info("checkpoint %s belongs to another config; starting afresh", path)
            return None
        self.model.load_state_dict(blob["model"])
        self.optimizer.load_state_dict(blob["optimizer"])
        self.scheduler.load_state_dict(blob["scheduler"])
        self.rng.bit_generator.state = blob["np_rng"]
        self.generator.set_state(blob["mmd_gen"])
        torch.set_rng_state(blob["torch_rng"])
        return TrainState(
            blob["epoch"],
            list(blob["history"]),
            float(blob["elapsed"]),
            BestEpoch.from_dict(blob["best"]),
        )


def config_hash(config: dict) -> str:
    """Identity of a resolved config: a checkpoint resumes only the run it was written by."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]

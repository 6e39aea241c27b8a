"""The training loop shared by both variants: epochs over batches, checkpoints, resume, divergence.

Full-batch training is the case of one batch that is the whole graph (stepped
`fullbatch_steps_per_epoch` times); Cluster-GCN draws groups of clusters. Both go through the
same step, prediction and scoring code. A run is deterministic given its resolved config and
seed: model initialisation, the hidden masks, the cluster order and the MMD subsamples all
draw from seeded generators whose states are checkpointed, so a run killed and resumed on CPU
ends exactly where an uninterrupted run ends. The Extrapolation Error is scored after every
epoch with `zetalab.evaluation.scoring`, the same code that scores the final tables.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import torch

from zetalab.cloud.checkpoint_sync import attach as attach_checkpoint_mirror
from zetalab.evaluation.scoring import prediction_errors
from zetalab.learning.batches import (
    GraphBatch,
    cluster_batches,
    hidden_mask,
    whole_graph_batch,
)
from zetalab.learning.features import node_features
from zetalab.learning.models import PrimeGNN, count_parameters
from zetalab.learning.objective import LOSS_TERMS, Objective
from zetalab.learning.problem import Problem
from zetalab.learning.records import (
    COMPLETED,
    DIVERGED,
    HISTORY_COLUMNS,
    RunPaths,
    RunRecord,
    finish_record,
    write_run_outputs,
)
from zetalab.learning.resources import PeakMemory, pick_device
from zetalab.learning.state import Resumable, TrainState, config_hash

__all__ = ["HISTORY_COLUMNS", "RunPaths", "Trainer", "TrainingInterrupted", "config_hash"]

log = logging.getLogger("zetalab.learning")


class TrainingInterrupted(RuntimeError):
    """Raised by the test hook that simulates a job killed after a given epoch."""


class Trainer:
    """One (config, seed) run of a full-batch or mini-batch variant."""

    def __init__(self, config: dict, problem: Problem, seed: int, paths: RunPaths):
        self.config, self.problem, self.seed, self.paths = config, problem, seed, paths
        self.kind = config["run"]["kind"]
        self.tcfg = config["train"]
        self.device = pick_device(self.tcfg["device"])
        self.hash = config_hash(config)

        torch.manual_seed(seed)
        mcfg = config["model"]
        self.conv = mcfg["conv"]
        base = problem.features.estimate_column if mcfg.get("residual") else None
        self.model = PrimeGNN(
            problem.num_features, mcfg["hidden"], mcfg["layers"], self.conv, base_column=base
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=self.tcfg["lr"], weight_decay=self.tcfg["weight_decay"]
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=self.tcfg["epochs"], eta_min=self.tcfg["lr_min"]
        )
        self.rng = np.random.default_rng(seed)
        p = problem
        self.objective = Objective(config["loss"], p.lags, p.log_v_obs, seed, self.device)
        parts = (self.model, self.optimizer, self.scheduler, self.rng, self.objective.generator)
        self.state = Resumable(self.hash, *parts)
        self.delta_t = torch.as_tensor(p.data.delta, dtype=torch.float32, device=self.device)
        self.static_t = torch.as_tensor(p.static, device=self.device)
        self.observable_t = torch.as_tensor(p.observable, device=self.device)
        self.val0 = p.splits.validation - 1
        self.ext0 = p.splits.extrapolation - 1
        m = self.tcfg["mask"]
        self.mask_args = (m["random_fraction"], m["blocks"], m["block_length"] or p.splits.horizon)
        self.per_step = self.tcfg["clusters_per_step"]
        # Both designs predict on the whole graph, one sparse product per layer: Cluster-GCN
        # trains on clusters but cuts no edge at inference (as PyG's Cluster-GCN infers).
        self.eval_batches = [whole_graph_batch(p.graph, p.N, self.conv, self.device)]
        if self.kind == "fullbatch":
            steps = self.tcfg["fullbatch_steps_per_epoch"]
            num_parts = config["graph"]["partition"]["num_parts"]
            # As many steps per epoch as a mini-batch epoch over the same partition takes.
            self.steps = steps or -(-num_parts // self.per_step)
        else:
            self.members = p.partition.members()

    def _cluster_batches(self, rng: np.random.Generator | None) -> list[GraphBatch]:
        p = self.problem
        return cluster_batches(
            self.members, self.per_step, rng, p.graph.primes, p.N, self.conv, self.device
        )

    def _epoch_batches(self) -> list[GraphBatch]:
        """This epoch's batches: the whole graph `steps` times, or clusters in a random order."""
        if self.kind == "fullbatch":
            return self.eval_batches * self.steps
        return self._cluster_batches(self.rng)

    def _features(self, observed: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return node_features(self.delta_t[nodes], observed[nodes], self.static_t[nodes])

    def _step(self, total: torch.Tensor) -> bool:
        """Backward, clip, step; False when the loss or the gradient is not finite."""
        if not torch.isfinite(total):
            return False
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tcfg["grad_clip"])
        if not torch.isfinite(norm):
            return False
        self.optimizer.step()
        return True

    def _train_epoch(self, nan_now: bool) -> tuple[dict[str, float], int] | None:
        """One epoch: mean loss terms and nodes seen, or None if it diverged."""
        self.model.train()
        p = self.problem
        sums: dict[str, float] = {}
        steps, nodes_seen = 0, 0
        for batch in self._epoch_batches():
            # A fresh mask each step, shaped like the task (zetalab.learning.batches).
            hidden_np = hidden_mask(self.rng, p.observable, p.N, *self.mask_args)
            observed = torch.as_tensor(p.observable & ~hidden_np, device=self.device)
            hidden = torch.as_tensor(hidden_np, device=self.device)
            nodes, train_length = batch.nodes, p.N if batch.whole else None
            pred = self.model(self._features(observed, nodes), batch.adj)
            truth, obs, hid = self.delta_t[nodes], observed[nodes], hidden[nodes]
            terms = self.objective.terms(pred, truth, obs, hid, batch.pairs, train_length)
            total = self.objective.total(terms)
            if nan_now:
                total = total * float("nan")
            if not self._step(total):
                return None
            for k, v in [*terms.items(), ("total", total)]:
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            steps += 1
            nodes_seen += batch.size
        return {k: v / steps for k, v in sums.items()}, nodes_seen

    @torch.no_grad()
    def predict(self) -> np.ndarray:
        """δ̂ for every node with all observable train nodes observed (validation hidden)."""
        self.model.eval()
        out = torch.empty(self.problem.total, device=self.device)
        for b in self.eval_batches:
            out[b.nodes] = self.model(self._features(self.observable_t, b.nodes), b.adj)
        return out.double().cpu().numpy()

    @torch.no_grad()
    def predict_on(self, other: Problem) -> np.ndarray:
        """δ̂ of another problem of the same shape (a later window, another height), the model
        fixed: its zeros and static features replace the run's for this one prediction."""
        if other.total != self.problem.total:
            raise ValueError(f"a window of {other.total} nodes, the run has {self.problem.total}")
        own = self.delta_t, self.static_t
        self.delta_t = torch.as_tensor(other.data.delta, dtype=torch.float32, device=self.device)
        self.static_t = torch.as_tensor(other.static, device=self.device)
        try:
            return self.predict()
        finally:
            self.delta_t, self.static_t = own

    def _scores(self, pred: np.ndarray) -> dict[str, float]:
        d = self.problem.data
        errs = prediction_errors(
            pred[self.ext0], d.gammas[self.ext0], d.absolute(self.ext0 + 1), d.spacing[self.ext0]
        )
        val = float(np.mean((pred[self.val0] - d.delta[self.val0]) ** 2))
        return {"validation_loss": val, **{f"extrap_{k}": v for k, v in errs.items()}}

    def run(
        self,
        cfg: str,
        interrupt_after_epoch: int | None = None,
        nan_at_epoch: int | None = None,
    ) -> dict[str, Any]:
        """Train to the configured epochs (resuming a checkpoint), then write the outputs.

        `interrupt_after_epoch` and `nan_at_epoch` are test hooks: the first stops the run
        as a killed job would (no outputs, checkpoint kept), the second poisons that epoch's
        loss so the divergence path runs.
        """
        p, epochs = self.problem, self.tcfg["epochs"]
        attach_checkpoint_mirror(self.paths.checkpoint)  # on Batch: resume from / mirror to GCS
        state = self.state.restore(self.paths.checkpoint, self.device)
        resumed_from = None if state is None else state.epoch
        if state is None:
            state = TrainState()
            self.state.save(
                self.paths.checkpoint, state
            )  # epoch 0: a last good state always exists
        else:
            log.info("resuming from checkpoint at epoch %d", state.epoch)
        memory = PeakMemory(self.device)
        record = RunRecord(
            status=COMPLETED,
            message="",
            cfg=cfg,
            variant=self.config["run"]["variant"],
            kind=self.kind,
            seed=self.seed,
            N=p.N,
            horizon=p.splits.horizon,
            epochs_requested=epochs,
            epochs_run=0,
            config=self.config,
            resumed_from_epoch=resumed_from,
        )
        log.info(
            "training %s (%s) cfg=%s seed=%d N=%d H=%d on %s: %d parameters, %d epochs",
            record.variant, self.kind, cfg, self.seed, p.N, p.splits.horizon, self.device,
            count_parameters(self.model), epochs,
        )  # fmt: skip
        while state.epoch < epochs:
            epoch = state.epoch + 1
            t0 = time.perf_counter()
            result = self._train_epoch(nan_now=nan_at_epoch == epoch)
            if result is None:
                restored = self.state.restore(self.paths.checkpoint, self.device)
                record.status, record.diverged_at_epoch = DIVERGED, epoch
                record.restored_epoch = restored.epoch if restored is not None else state.epoch
                record.message = (
                    f"loss or gradient became NaN/Inf at epoch {epoch}; kept the last good "
                    f"checkpoint (epoch {record.restored_epoch}) and wrote predictions from it"
                )
                log.error(record.message)
                break
            state.history.append(self._epoch_row(epoch, t0, *result, state, memory))
            state.epoch = epoch
            if epoch % self.tcfg["checkpoint_every"] == 0 or epoch == epochs:
                self.state.save(self.paths.checkpoint, state)
            if interrupt_after_epoch is not None and epoch == interrupt_after_epoch:
                raise TrainingInterrupted(f"test hook: interrupted after epoch {epoch}")
        pred = self.predict()
        record.epochs_run = state.epoch
        finish_record(
            record,
            state.history,
            self._scores(pred),
            self.problem.graph.num_edges,
            memory,
            str(self.device),
            count_parameters(self.model),
            self.hash,
        )
        return write_run_outputs(self.paths, record, state.history, pred)

    def _epoch_row(
        self,
        epoch: int,
        t0: float,
        means: dict[str, float],
        nodes_seen: int,
        state: TrainState,
        memory,
    ) -> dict[str, Any]:
        """Step the schedule, score the epoch, log it: one row of history.csv."""
        train_time = time.perf_counter() - t0
        self.scheduler.step()
        scores = self._scores(self.predict())
        epoch_time = time.perf_counter() - t0
        state.elapsed += epoch_time
        row = {
            "epoch": epoch,
            "loss_total": means["total"],
            **{f"loss_{k}": means.get(k, math.nan) for k in LOSS_TERMS},
            **scores,
            "lr": self.optimizer.param_groups[0]["lr"],
            "epoch_time_s": epoch_time,
            "elapsed_s": state.elapsed,
            "peak_mem_bytes": memory.peak_bytes(),
            "nodes_per_s": nodes_seen / train_time if train_time > 0 else math.nan,
            "device": str(self.device),
        }
        log.info(
            "epoch %d/%d loss %.5f (mse %.5f nll %.4f mmd %.5f rg %.4f) val %.5f "
            "extrap rmse %.4f spacings, mse %.3e height | %.2fs %.0f nodes/s",
            epoch, self.tcfg["epochs"], row["loss_total"], row["loss_mse"], row["loss_gue_nll"],
            row["loss_gue_mmd"], row["loss_rg_penalty"], row["validation_loss"],
            row["extrap_rmse_spacing"], row["extrap_mse_height"], epoch_time, row["nodes_per_s"],
        )  # fmt: skip
        return row

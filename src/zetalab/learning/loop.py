"""The training loop shared by both variants: epochs over batches, checkpoints, resume, divergence.

Full-batch training is the case of one batch that is the whole graph (stepped
`fullbatch_steps_per_epoch` times); Cluster-GCN draws groups of clusters. Both go through the
same step, prediction and scoring code. A run is deterministic given its resolved config and
seed: model initialisation, the hidden masks, the cluster order and the MMD subsamples all
draw from seeded generators whose states are checkpointed, so a run killed and resumed on CPU
ends exactly where an uninterrupted run ends. The Extrapolation Error is scored after every
epoch with `zetalab.evaluation.scoring`, the same code that scores the final tables; it decides
when the run stops and which epoch's weights it keeps (zetalab.learning.stopping).
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
from zetalab.learning.features import fill_dynamic_columns, node_features
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
from zetalab.learning.stopping import (
    MAX_EPOCHS,
    MONITOR,
    PATIENCE,
    convergence_record,
    make_scheduler,
    step_scheduler,
)

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
            self.model.parameters(),
            lr=self.tcfg["lr"],
            weight_decay=self.tcfg["weight_decay"],
            fused=True,
        )
        self.scheduler = make_scheduler(self.optimizer, self.tcfg)
        self.rng = np.random.default_rng(seed)
        p = problem
        self.objective = Objective(config["loss"], p.lags, p.log_v_obs, seed, self.device)
        parts = (self.model, self.optimizer, self.scheduler, self.rng, self.objective.generator)
        self.state = Resumable(self.hash, *parts)
        self._set_inputs(p.data.delta, p.static)
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

    def _set_inputs(self, delta: np.ndarray, static: np.ndarray) -> None:
        """The zeros and static features the model reads; the whole graph's input matrix is
        kept, static columns filled once, so a full-batch step writes only the two dynamic
        columns instead of copying N × F features."""
        self.delta_t = torch.as_tensor(delta, dtype=torch.float32, device=self.device)
        self.static_t = torch.as_tensor(static, device=self.device)
        no_nodes = torch.zeros(len(delta), dtype=torch.bool, device=self.device)
        self.whole_x = node_features(self.delta_t, no_nodes, self.static_t)

    def _features(self, observed: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        if batch.whole:
            return fill_dynamic_columns(self.whole_x, self.delta_t, observed)
        nodes = batch.nodes
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
            truth, obs, hid = self.delta_t[nodes], observed[nodes], hidden[nodes]
            pred = self._hidden_predictions(observed, batch, hid)
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

    def _hidden_predictions(
        self, observed: torch.Tensor, batch: GraphBatch, hid: torch.Tensor
    ) -> torch.Tensor:
        """The batch's output with the model run for its hidden nodes only (zetalab.learning.
        objective: no loss term reads another node's output), zeros elsewhere."""
        rows = torch.nonzero(hid).squeeze(1)
        out = self.model(self._features(observed, batch), batch.adj, rows)
        return torch.zeros(len(hid), dtype=out.dtype, device=out.device).index_put((rows,), out)

    @torch.no_grad()
    def predict(self) -> np.ndarray:
        """δ̂ for every node with all observable train nodes observed (validation hidden)."""
        self.model.eval()
        out = torch.empty(self.problem.total, device=self.device)
        for b in self.eval_batches:
            out[b.nodes] = self.model(self._features(self.observable_t, b), b.adj)
        return out.double().cpu().numpy()

    @torch.no_grad()
    def predict_on(self, other: Problem) -> np.ndarray:
        """δ̂ of another problem of the same shape (a later window, another height), the model
        fixed: its zeros and static features replace the run's for this one prediction."""
        if other.total != self.problem.total:
            raise ValueError(f"a window of {other.total} nodes, the run has {self.problem.total}")
        own = self.problem.data.delta, self.problem.static
        self._set_inputs(other.data.delta, other.static)
        try:
            return self.predict()
        finally:
            self._set_inputs(*own)

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
        """Train until patience or max_epochs (resuming a checkpoint), keep the best epoch on
        the extrapolation window, then write the outputs.

        `interrupt_after_epoch` and `nan_at_epoch` are test hooks: the first stops the run
        as a killed job would (no outputs, checkpoint kept), the second poisons that epoch's
        loss so the divergence path runs.
        """
        p, max_epochs, patience = self.problem, self.tcfg["max_epochs"], self.tcfg["patience"]
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
            max_epochs=max_epochs,
            epochs_run=0,
            config=self.config,
            resumed_from_epoch=resumed_from,
        )
        log.info(
            "training %s (%s) cfg=%s seed=%d N=%d H=%d on %s: %d parameters, up to %d epochs, "
            "patience %s on %s",
            record.variant, self.kind, cfg, self.seed, p.N, p.splits.horizon, self.device,
            count_parameters(self.model), max_epochs, patience, MONITOR,
        )  # fmt: skip
        stop_reason = MAX_EPOCHS
        while state.epoch < max_epochs and not state.best.exhausted(patience):
            epoch = state.epoch + 1
            t0 = time.perf_counter()
            result = self._train_epoch(nan_now=nan_at_epoch == epoch)
            if result is None:
                state = self._diverged(record, epoch, state)
                stop_reason = DIVERGED
                break
            row = self._epoch_row(epoch, t0, *result, state, memory)
            state.history.append(row)
            state.best.update(epoch, row[MONITOR], self.model, self.tcfg["min_delta"])
            step_scheduler(self.scheduler, row[MONITOR])
            state.epoch = epoch
            done = epoch == max_epochs or state.best.exhausted(patience)
            if epoch % self.tcfg["checkpoint_every"] == 0 or done:
                self.state.save(self.paths.checkpoint, state)
            if interrupt_after_epoch is not None and epoch == interrupt_after_epoch:
                raise TrainingInterrupted(f"test hook: interrupted after epoch {epoch}")
        if stop_reason != DIVERGED and state.best.exhausted(patience):
            stop_reason = PATIENCE
        if state.best.weights is not None:
            self.model.load_state_dict(state.best.weights)
        pred = self.predict()
        record.epochs_run = state.epoch
        record.extra.update(convergence_record(state.best, state.epoch, stop_reason, patience))
        log.info(
            "stopped after %d epochs (%s); kept epoch %s (%s %.5f)",
            state.epoch, stop_reason, state.best.epoch or "none", MONITOR, state.best.score,
        )  # fmt: skip
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

    def _diverged(self, record: RunRecord, epoch: int, state: TrainState) -> TrainState:
        """Back to the last good checkpoint: the run keeps that checkpoint's best epoch (the
        history keeps every epoch trained)."""
        restored = self.state.restore(self.paths.checkpoint, self.device)
        record.status, record.diverged_at_epoch = DIVERGED, epoch
        record.restored_epoch = restored.epoch if restored is not None else state.epoch
        if restored is not None:
            state.best = restored.best
        record.message = (
            f"loss or gradient became NaN/Inf at epoch {epoch}; kept the best epoch of the last "
            f"good checkpoint (epoch {record.restored_epoch}) and wrote predictions from it"
        )
        log.error(record.message)
        return state

    def _epoch_row(
        self,
        epoch: int,
        t0: float,
        means: dict[str, float],
        nodes_seen: int,
        state: TrainState,
        memory,
    ) -> dict[str, Any]:
        """Score the epoch and log it: one row of history.csv (lr: the rate this epoch used)."""
        train_time = time.perf_counter() - t0
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
            "extrap rmse %.4f spacings, mse %.3e height | lr %.2e | %.2fs %.0f nodes/s",
            epoch, self.tcfg["max_epochs"], row["loss_total"], row["loss_mse"],
            row["loss_gue_nll"], row["loss_gue_mmd"], row["loss_rg_penalty"],
            row["validation_loss"], row["extrap_rmse_spacing"], row["extrap_mse_height"],
            row["lr"], epoch_time, row["nodes_per_s"],
        )  # fmt: skip
        return row

"""The training loop shared by both variants: epochs, checkpoints, resume, divergence.

A run is deterministic given its resolved config and seed: model initialisation, the hidden
masks, the cluster order and the MMD subsamples all draw from seeded generators whose states
are checkpointed, so a run killed and resumed on CPU ends exactly where an uninterrupted run
ends. The Extrapolation Error is scored after every epoch with
`zetalab.evaluation.scoring`, the same code that scores the final tables.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zetalab.errors import ZetalabError
from zetalab.evaluation.predictions import save_predictions
from zetalab.evaluation.scoring import prediction_errors
from zetalab.io import atomic_path, json_safe, write_json_atomic, write_text_atomic
from zetalab.learning.batches import (
    cluster_groups,
    consecutive_pairs,
    hidden_mask,
    induced_subgraph,
)
from zetalab.learning.features import DYNAMIC_COLUMNS
from zetalab.learning.losses import (
    gue_mmd,
    gue_nll,
    kernel_mean,
    mse,
    rg_penalty,
    spacings,
    wigner_sample,
)
from zetalab.learning.models import PrimeGNN, count_parameters, normalized_adjacency
from zetalab.learning.problem import Problem
from zetalab.learning.resources import PeakMemory, pick_device, process_peak_bytes

log = logging.getLogger("zetalab.learning")

LOSS_TERMS = ("mse", "gue_nll", "gue_mmd", "rg_penalty")
HISTORY_COLUMNS = (
    "epoch",
    "loss_total",
    "loss_mse",
    "loss_gue_nll",
    "loss_gue_mmd",
    "loss_rg_penalty",
    "validation_loss",
    "extrap_mse_height",
    "extrap_mae_height",
    "extrap_mse_spacing",
    "extrap_rmse_spacing",
    "lr",
    "epoch_time_s",
    "elapsed_s",
    "peak_mem_bytes",
    "nodes_per_s",
    "device",
)


class TrainingInterrupted(RuntimeError):
    """Raised by the test hook that simulates a job killed after a given epoch."""


@dataclass
class RunPaths:
    metrics: Path
    history: Path
    predictions: Path

    @property
    def checkpoint(self) -> Path:
        return self.metrics.parent / "checkpoint.pt"


@dataclass
class _State:
    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0


def config_hash(config: dict) -> str:
    """Identity of a resolved config: a checkpoint resumes only the run it was written by."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


class Trainer:
    """One (config, seed) run of a full-batch or mini-batch variant."""

    def __init__(self, config: dict, problem: Problem, seed: int, paths: RunPaths):
        self.config = config
        self.problem = problem
        self.seed = seed
        self.paths = paths
        self.kind = config["run"]["kind"]
        self.tcfg = config["train"]
        self.lcfg = config["loss"]
        self.device = pick_device(self.tcfg["device"])
        self.hash = config_hash(config)

        torch.manual_seed(seed)
        mcfg = config["model"]
        self.model = PrimeGNN(
            DYNAMIC_COLUMNS + problem.static.shape[1],
            hidden=mcfg["hidden"],
            layers=mcfg["layers"],
            conv=mcfg["conv"],
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=self.tcfg["lr"], weight_decay=self.tcfg["weight_decay"]
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=self.tcfg["epochs"], eta_min=self.tcfg["lr_min"]
        )
        self.rng = np.random.default_rng(seed)
        self.mmd_gen = torch.Generator().manual_seed(seed)

        p = problem
        self.delta_t = torch.as_tensor(p.data.delta, dtype=torch.float32, device=self.device)
        self.static_t = torch.as_tensor(p.static, device=self.device)
        self.reference = torch.as_tensor(
            wigner_sample(self.lcfg["mmd_reference_size"], self.lcfg["mmd_seed"]),
            dtype=torch.float32,
            device=self.device,
        )
        self.reference_term = kernel_mean(
            self.reference, self.reference, self.lcfg["mmd_bandwidths"]
        )
        self.log_v_obs = torch.as_tensor(p.log_v_obs, dtype=torch.float32, device=self.device)
        self.observable_t = torch.as_tensor(p.observable, device=self.device)
        self.val0 = p.splits.validation - 1
        self.ext0 = p.splits.extrapolation - 1
        block = self.tcfg["mask"]["block_length"] or p.splits.horizon
        self.mask_args = (
            self.tcfg["mask"]["random_fraction"],
            self.tcfg["mask"]["blocks"],
            block,
        )
        conv = mcfg["conv"]
        steps = self.tcfg["fullbatch_steps_per_epoch"]
        per_step = self.tcfg["clusters_per_step"]
        self.fullbatch_steps = steps or -(-config["graph"]["partition"]["num_parts"] // per_step)
        if self.kind == "fullbatch":
            self.adj = normalized_adjacency(p.total, p.graph.src, p.graph.dst, conv, self.device)
            self.train_pairs = torch.arange(p.N - 1, device=self.device)
        else:
            self.members = p.partition.members()
            # Fixed evaluation groups: inference walks the clusters in order, per_step at a
            # time, so prediction memory is that of one training step.
            self.eval_batches = [
                self._prepare(induced_subgraph(nodes, p.graph.primes))
                for nodes in cluster_groups(self.members, per_step, None)
            ]

    # -- features and batches -------------------------------------------------------------

    def _features(self, observed: torch.Tensor, nodes: torch.Tensor | None = None) -> torch.Tensor:
        delta = self.delta_t if nodes is None else self.delta_t[nodes]
        static = self.static_t if nodes is None else self.static_t[nodes]
        obs = observed if nodes is None else observed[nodes]
        dyn = torch.stack([torch.where(obs, delta, torch.zeros_like(delta)), obs.float()], dim=1)
        return torch.cat([dyn, static], dim=1)

    def _prepare(self, batch) -> dict[str, Any]:
        nodes = torch.as_tensor(batch.nodes, device=self.device)
        adj = normalized_adjacency(
            len(batch.nodes), batch.src, batch.dst, self.config["model"]["conv"], self.device
        )
        pairs = torch.as_tensor(consecutive_pairs(batch.nodes, self.problem.N), device=self.device)
        return {"nodes": nodes, "adj": adj, "pairs": pairs, "size": len(batch.nodes)}

    # -- losses ---------------------------------------------------------------------------

    def _loss_terms(
        self,
        pred: torch.Tensor,
        target_pos: torch.Tensor,
        target: torch.Tensor,
        pairs: torch.Tensor,
        full_train: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        terms: dict[str, torch.Tensor] = {}
        zero = pred.new_zeros(())
        terms["mse"] = mse(pred[target_pos], target) if len(target_pos) else zero
        if len(pairs):
            s = spacings(pred, pairs)
            terms["gue_nll"] = gue_nll(s)
            terms["gue_mmd"] = gue_mmd(
                s,
                self.reference,
                self.lcfg["mmd_bandwidths"],
                self.lcfg["mmd_max_samples"],
                self.mmd_gen,
                self.reference_term,
            )
        else:
            terms["gue_nll"] = terms["gue_mmd"] = zero
        if full_train is not None and self.problem.lags:
            rg = rg_penalty(full_train, self.problem.lags, self.log_v_obs)
            # Logged for every full-batch run (the ablation too); differentiated only if used.
            terms["rg_penalty"] = rg if self.lcfg["w_rg"] > 0 else rg.detach()
        return terms

    def _total(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        w = self.lcfg
        total = w["w_mse"] * terms["mse"] + w["w_nll"] * terms["gue_nll"]
        total = total + w["w_mmd"] * terms["gue_mmd"]
        if "rg_penalty" in terms and w["w_rg"] > 0:
            total = total + w["w_rg"] * terms["rg_penalty"]
        return total

    # -- one epoch ------------------------------------------------------------------------

    def _epoch_mask(self) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.problem
        hidden = hidden_mask(self.rng, p.observable, p.N, *self.mask_args)
        observed = torch.as_tensor(p.observable & ~hidden, device=self.device)
        return observed, torch.as_tensor(hidden, device=self.device)

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
        self.model.train()
        observed, hidden = self._epoch_mask()
        sums: dict[str, float] = {}
        steps, nodes_seen = 0, 0
        if self.kind == "fullbatch":
            batches = [None] * self.fullbatch_steps
        else:
            groups = cluster_groups(self.members, self.tcfg["clusters_per_step"], self.rng)
            batches = [
                self._prepare(induced_subgraph(g, self.problem.graph.primes)) for g in groups
            ]
        for batch in batches:
            if batch is None:
                pred = self.model(self._features(observed), self.adj)
                target_pos = torch.nonzero(hidden).squeeze(1)
                target = self.delta_t[target_pos]
                pairs = self.train_pairs
                full_train = pred[: self.problem.N]
                size = self.problem.total
            else:
                nodes = batch["nodes"]
                pred = self.model(self._features(observed, nodes), batch["adj"])
                target_pos = torch.nonzero(hidden[nodes]).squeeze(1)
                target = self.delta_t[nodes[target_pos]]
                pairs, full_train, size = batch["pairs"], None, batch["size"]
            terms = self._loss_terms(pred, target_pos, target, pairs, full_train)
            total = self._total(terms)
            if nan_now:
                total = total * float("nan")
            if not self._step(total):
                return None
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            sums["total"] = sums.get("total", 0.0) + float(total.detach())
            steps += 1
            nodes_seen += size
        return {k: v / steps for k, v in sums.items()}, nodes_seen

    @torch.no_grad()
    def predict(self) -> np.ndarray:
        """δ̂ for every node with all observable train nodes observed (validation hidden)."""
        self.model.eval()
        if self.kind == "fullbatch":
            out = self.model(self._features(self.observable_t), self.adj)
        else:
            out = torch.empty(self.problem.total, device=self.device)
            for b in self.eval_batches:
                out[b["nodes"]] = self.model(
                    self._features(self.observable_t, b["nodes"]), b["adj"]
                )
        return out.double().cpu().numpy()

    def _scores(self, pred: np.ndarray) -> dict[str, float]:
        d = self.problem.data
        errs = prediction_errors(
            pred[self.ext0], d.gammas[self.ext0], self.ext0 + 1, d.spacing[self.ext0]
        )
        val = float(np.mean((pred[self.val0] - d.delta[self.val0]) ** 2))
        return {"validation_loss": val, **{f"extrap_{k}": v for k, v in errs.items()}}

    # -- checkpoints ----------------------------------------------------------------------

    def _save_checkpoint(self, state: _State) -> None:
        blob = {
            "config_hash": self.hash,
            "epoch": state.epoch,
            "elapsed": state.elapsed,
            "history": state.history,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "np_rng": self.rng.bit_generator.state,
            "mmd_gen": self.mmd_gen.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        with atomic_path(self.paths.checkpoint) as tmp:
            torch.save(blob, tmp)

    def _load_checkpoint(self) -> _State | None:
        path = self.paths.checkpoint
        if not path.exists():
            return None
        try:
            blob = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as exc:  # a checkpoint from another torch version, a bad disk
            log.warning("ignoring unreadable checkpoint %s (%s); starting afresh", path, exc)
            return None
        if blob.get("config_hash") != self.hash:
            log.info("checkpoint %s belongs to another config; starting afresh", path)
            return None
        self.model.load_state_dict(blob["model"])
        self.optimizer.load_state_dict(blob["optimizer"])
        self.scheduler.load_state_dict(blob["scheduler"])
        self.rng.bit_generator.state = blob["np_rng"]
        self.mmd_gen.set_state(blob["mmd_gen"])
        torch.set_rng_state(blob["torch_rng"])
        return _State(blob["epoch"], list(blob["history"]), float(blob["elapsed"]))

    # -- the run --------------------------------------------------------------------------

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
        p = self.problem
        epochs = self.tcfg["epochs"]
        state = self._load_checkpoint()
        resumed_from = None
        if state is None:
            state = _State()
            self._save_checkpoint(state)  # epoch 0: a last good state always exists
        else:
            resumed_from = state.epoch
            log.info("resuming from checkpoint at epoch %d", state.epoch)
        memory = PeakMemory(self.device)
        status, message, diverged_at, restored_epoch = "completed", "", None, None
        log.info(
            "training %s (%s) cfg=%s seed=%d N=%d H=%d on %s: %d parameters, %d epochs",
            self.config["run"]["variant"],
            self.kind,
            cfg,
            self.seed,
            p.N,
            p.splits.horizon,
            self.device,
            count_parameters(self.model),
            epochs,
        )
        while state.epoch < epochs:
            epoch = state.epoch + 1
            t0 = time.perf_counter()
            result = self._train_epoch(nan_now=nan_at_epoch == epoch)
            if result is None:
                status, diverged_at = "diverged", epoch
                restored = self._load_checkpoint()
                restored_epoch = restored.epoch if restored is not None else state.epoch
                message = (
                    f"loss or gradient became NaN/Inf at epoch {epoch}; kept the last good "
                    f"checkpoint (epoch {restored_epoch}) and wrote predictions from it"
                )
                log.error(message)
                break
            means, nodes_seen = result
            train_time = time.perf_counter() - t0
            self.scheduler.step()
            scores = self._scores(self.predict())
            epoch_time = time.perf_counter() - t0
            state.elapsed += epoch_time
            state.epoch = epoch
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
            state.history.append(row)
            log.info(
                "epoch %d/%d loss %.5f (mse %.5f nll %.4f mmd %.5f rg %.4f) val %.5f "
                "extrap rmse %.4f spacings, mse %.3e height | %.2fs %.0f nodes/s",
                epoch,
                epochs,
                row["loss_total"],
                row["loss_mse"],
                row["loss_gue_nll"],
                row["loss_gue_mmd"],
                row["loss_rg_penalty"],
                row["validation_loss"],
                row["extrap_rmse_spacing"],
                row["extrap_mse_height"],
                epoch_time,
                row["nodes_per_s"],
            )
            if epoch % self.tcfg["checkpoint_every"] == 0 or epoch == epochs:
                self._save_checkpoint(state)
            if interrupt_after_epoch is not None and epoch == interrupt_after_epoch:
                raise TrainingInterrupted(f"test hook: interrupted after epoch {epoch}")
        pred = self.predict()
        metrics = self._metrics(cfg, state, pred, status, message, memory)
        metrics.update(
            diverged_at_epoch=diverged_at,
            restored_epoch=restored_epoch,
            resumed_from_epoch=resumed_from,
        )
        self._write_outputs(state, pred, metrics)
        return metrics

    def _metrics(
        self, cfg: str, state: _State, pred: np.ndarray, status: str, message: str, memory
    ) -> dict[str, Any]:
        final = self._scores(pred)
        hist = state.history
        finite = [r for r in hist if math.isfinite(r["extrap_mse_height"])]
        best = min(finite, key=lambda r: r["extrap_mse_height"]) if finite else None
        ext_keys = ("mse_height", "mae_height", "mse_spacing", "rmse_spacing")
        total_nodes = self.problem.total
        peak = max([r["peak_mem_bytes"] for r in hist], default=memory.peak_bytes())
        return {
            "status": status,
            "message": message,
            "cfg": cfg,
            "variant": self.config["run"]["variant"],
            "kind": self.kind,
            "seed": self.seed,
            "N": self.problem.N,
            "horizon": self.problem.splits.horizon,
            "nodes": total_nodes,
            "edges": self.problem.graph.num_edges,
            "epochs_requested": self.tcfg["epochs"],
            "epochs_run": state.epoch,
            "final_validation_loss": final["validation_loss"],
            "final_extrapolation": {k: final[f"extrap_{k}"] for k in ext_keys},
            "best_extrapolation": (
                {"epoch": best["epoch"], **{k: best[f"extrap_{k}"] for k in ext_keys}}
                if best
                else None
            ),
            "wall_time_s": state.elapsed,
            "mean_epoch_time_s": state.elapsed / len(hist) if hist else None,
            "nodes_per_s": float(np.mean([r["nodes_per_s"] for r in hist])) if hist else None,
            "peak_mem_bytes": peak,
            "peak_mem_kind": memory.kind,
            "peak_mem_bytes_per_node": peak / total_nodes,
            "train_loop_mem_growth_bytes": memory.loop_growth_bytes(),
            "process_peak_rss_bytes": process_peak_bytes(),
            "device": str(self.device),
            "num_parameters": count_parameters(self.model),
            "config_hash": self.hash,
            "config": self.config,
        }

    def _write_outputs(self, state: _State, pred: np.ndarray, metrics: dict) -> None:
        if not np.all(np.isfinite(pred)):
            raise ZetalabError(
                "the model's predictions are not finite even at the last good checkpoint",
                "lower train.lr or the loss weights",
            )
        name = f"{metrics['cfg']}/{metrics['variant']}/seed{self.seed}"
        save_predictions(self.paths.predictions, np.arange(1, len(pred) + 1), pred, name, "model")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(state.history)
        write_text_atomic(self.paths.history, buf.getvalue())
        write_json_atomic(self.paths.metrics, json_safe(metrics))

"""Device choice and peak-memory readings that are cheap enough to take every epoch.

tracemalloc would slow training several-fold, so CPU runs read the process's peak resident
set (getrusage) and report its growth since training started; CUDA runs read the allocator's
own peak.
"""

from __future__ import annotations

import resource
import sys

import torch

from zetalab.cloud.gpu import require_cuda_if_allocated
from zetalab.errors import ZetalabError


def pick_device(setting: str) -> torch.device:
    """auto → CUDA when present; an explicit 'cuda' without a GPU is a clear error."""
    require_cuda_if_allocated(setting)  # a job given a GPU never falls back to the CPU
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise ZetalabError(
            "train.device = cuda but no CUDA device is available", "use train.device: auto or cpu"
        )
    return torch.device(setting)


def process_peak_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class PeakMemory:
    """Peak memory: the CUDA allocator's peak, or on CPU the process's peak RSS.

    On CPU the growth of the peak RSS over the training loop is kept too: it is the loop's
    working memory (activations, gradients, batches) without the data loaded before it,
    which is what must stay flat in N for mini-batch training.
    """

    @property
    def kind(self) -> str:
        return "cuda_max_allocated" if self.device.type == "cuda" else "process_peak_rss"

    def __init__(self, device: torch.device):
        self.device = device
        self.baseline = process_peak_bytes()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

    def peak_bytes(self) -> int:
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return process_peak_bytes()

    def loop_growth_bytes(self) -> int:
        """Growth of the process's peak RSS since the loop started (CPU)."""
        return max(0, process_peak_bytes() - self.baseline)

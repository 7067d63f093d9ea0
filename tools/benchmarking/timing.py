"""Latency of PyTorch callables for the benchmark tables: the library's
interleaved timing (:func:`mmedgenext.deploy.profile.time_interleaved`)
under ``inference_mode`` and an optional autocast, with what ran recorded
(threads, the precision a matrix product took); figures are medians (and
90th percentiles) over rounds, and ratios are taken round by round."""
import contextlib
import statistics
from dataclasses import dataclass

import torch

from mmedgenext.deploy.profile import time_interleaved

_PRECISIONS = {torch.float32: 'fp32', torch.bfloat16: 'bf16',
               torch.float16: 'fp16'}


def torch_device(threads=None, device=None):
    """Set PyTorch's threads to ``threads`` (if given) and return
    ``device`` as a torch.device, by default cuda where there is one,
    else cpu: what a benchmark's --threads and --device mean."""
    if threads:
        torch.set_num_threads(threads)
    return torch.device(device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))


def compute_precision(device):
    """What a matrix product computes in here on ``device``: 'fp32', or
    'bf16' / 'fp16' under autocast."""
    a = torch.ones(1, 1, device=device)
    return _PRECISIONS[(a @ a).dtype]


@dataclass
class Timings:
    """Seconds per round of each timed callable, and the conditions
    measured while they ran: PyTorch's threads and the precision a matrix
    product took (autocast)."""
    seconds: dict
    threads: int
    precision: str

    @property
    def rounds(self):
        return len(next(iter(self.seconds.values())))

    def p50_ms(self, name):
        return statistics.median(self.seconds[name]) * 1e3

    def p90_ms(self, name):
        """The 90th percentile (statistics.quantiles' exclusive method;
        the one value of a single round)."""
        t = self.seconds[name]
        return (statistics.quantiles(t, n=10)[-1] if len(t) > 1 else
                t[0]) * 1e3

    def ratio(self, name, reference):
        """Median over rounds of ``name``'s time over ``reference``'s in
        the same round."""
        return statistics.median(
            a / b for a, b in zip(self.seconds[name],
                                  self.seconds[reference]))

    def ratio_to_fastest(self, name, peers):
        """:meth:`ratio` to the peer with the lowest median (<= 1.0:
        ``name`` is at least as fast as every peer)."""
        return self.ratio(name, min(peers, key=self.p50_ms))


def measure(fns, rounds, warmup=3, device='cpu', context=None):
    """:class:`Timings` of the zero-argument callables ``fns`` (a dict by
    name) over ``rounds`` interleaved rounds, after ``warmup`` untimed
    ones, under ``inference_mode`` and ``context`` (e.g. autocast); CUDA
    is synchronised around each call on a cuda ``device``."""
    cuda = torch.device(device).type == 'cuda'
    with torch.inference_mode(), context or contextlib.nullcontext():
        precision = compute_precision(device)
        seconds = time_interleaved(fns, rounds, warmup,
                                   torch.cuda.synchronize if cuda else None)
    return Timings(seconds, torch.get_num_threads(), precision)

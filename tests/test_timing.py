"""The figures the benchmarks print, from per-round times worked out by
hand: medians, the 90th percentile (statistics.quantiles' exclusive
method), and ratios taken round by round; the interleaved timing they and
tools/quantize_onnx.py share."""
import pytest
import torch
from benchmarking.timing import Timings, measure

from mmedgenext.deploy.profile import time_interleaved

SECONDS = dict(ours=[.001, .004, .002, .003, .010],
               peer=[.002, .002, .004, .002, .005],
               slow=[.009, .009, .009, .009, .009])


def test_medians_percentiles_and_ratios():
    timings = Timings(SECONDS, threads=1, precision='fp32')
    assert timings.rounds == 5
    assert timings.p50_ms('ours') == pytest.approx(3)
    # exclusive method: position 0.9 * (5 + 1) = 5.4 in the sorted times,
    # past the last: 10 + 0.4 * (10 - 4) and 5 + 0.4 * (5 - 4) ms
    assert timings.p90_ms('ours') == pytest.approx(12.4)
    assert timings.p90_ms('peer') == pytest.approx(5.4)
    # ours / peer per round: .5, 2, .5, 1.5, 2 -> median 1.5 (the ratio of
    # the medians would be 3 / 2 = 1.5 too, but not round by round)
    assert timings.ratio('ours', 'peer') == pytest.approx(1.5)
    assert timings.ratio('peer', 'ours') == pytest.approx(2 / 3)
    assert timings.ratio_to_fastest('ours', ['slow', 'peer']) == \
        timings.ratio('ours', 'peer')
    single = Timings(dict(a=[.002]), threads=1, precision='fp32')
    assert single.p90_ms('a') == single.p50_ms('a') == pytest.approx(2)


def _recorders(calls):
    return {name: (lambda n: lambda: calls.append(n))(name)
            for name in 'abc'}


def test_time_interleaved_times_each_callable_once_a_round():
    """Every callable once per round after the warm-up, the rounds'
    orders shuffled (seeded: a fixed order would let a drift of the
    machine's load fall on one callable), ``sync`` around each timed
    call."""
    calls = []
    seconds = time_interleaved(_recorders(calls), rounds=4, warmup=2,
                               sync=lambda: calls.append('sync'))
    assert calls[:6] == list('abcabc')  # the warm-up, in order, unsynced
    timed = calls[6:]
    assert timed[0::3] == timed[2::3] == ['sync'] * 12
    order = timed[1::3]
    rounds = [order[i:i + 3] for i in range(0, 12, 3)]
    assert [sorted(r) for r in rounds] == [list('abc')] * 4
    assert len({tuple(r) for r in rounds}) > 1
    assert {n: len(t) for n, t in seconds.items()} == dict(a=4, b=4, c=4)
    assert all(s >= 0 for t in seconds.values() for s in t)


def test_measure_records_what_ran():
    """The threads and the autocast precision of the rounds."""
    calls = []
    timings = measure(_recorders(calls), rounds=4, warmup=2,
                      context=torch.autocast('cpu', torch.bfloat16))
    assert len(calls) == 18
    assert timings.rounds == 4 and timings.precision == 'bf16'
    assert timings.threads == torch.get_num_threads()
    assert measure(_recorders(calls), rounds=1).precision == 'fp32'

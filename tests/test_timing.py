"""The figures the benchmarks print, from per-round times worked out by
hand: medians, the 90th percentile (statistics.quantiles' exclusive
method), and ratios taken round by round."""
import pytest
import torch

from mmedgenext.analysis.timing import Timings, time_interleaved

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


def test_time_interleaved_measures_what_ran():
    """Every callable once per round after the warm-up, in one order per
    round; the threads and the autocast precision of the rounds."""
    calls = []
    fns = {name: (lambda n: lambda: calls.append(n))(name)
           for name in 'abc'}
    timings = time_interleaved(fns, rounds=4, warmup=2,
                               context=torch.autocast('cpu', torch.bfloat16))
    assert calls[:6] == list('abcabc')  # the warm-up, in order
    rounds = [sorted(calls[i:i + 3]) for i in range(6, 18, 3)]
    assert rounds == [list('abc')] * 4
    assert timings.rounds == 4 and timings.precision == 'bf16'
    assert timings.threads == torch.get_num_threads()
    assert time_interleaved(fns, rounds=1).precision == 'fp32'

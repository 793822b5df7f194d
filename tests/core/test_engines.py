"""One switch for the reference twin: ``engine="numba" | "reference"`` everywhere, one message."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap import CascadeSimulator, ConfigError, LiquidationModel
from liqmap.core import book as bk
from liqmap.core import cascade_kernels as cc
from liqmap.core import incremental as inc
from liqmap.core.engines import ENGINES, check_engine
from liqmap.core.records import LiqMap
from liqmap.io.sample import load_sample
from liqmap.live import IncrementalModel

MESSAGE = "unknown engine 'fast'; use 'numba' or 'reference'"


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, 50))


def test_engines_and_the_check():
    assert ENGINES == ("numba", "reference")
    assert [check_engine(e) for e in ENGINES] == list(ENGINES)
    with pytest.raises(ConfigError, match=MESSAGE):
        check_engine("fast")


def test_every_estimator_and_kernel_takes_the_same_keyword_and_message(bars):
    model = LiquidationModel(band="none")
    calls = [
        lambda e: model.run(bars, engine=e),
        lambda e: IncrementalModel(model, bars, engine=e),
        lambda e: CascadeSimulator(engine=e),
        lambda e: bk.run_book(_tiny_inputs(), engine=e),
        lambda e: inc.step_book(inc.new_state(1, 4), _tiny_channels(), first=True, dt_ms=0.0,
                                low_usd=1.0, high_usd=1.0, oi_prev_coin=0.0, oi_coin=0.0,
                                opened_coin=0.0, aggr_long_share=0.5,
                                entry_px_usd=np.ones(1), entry_w=np.ones(1), engine=e),
        lambda e: cc.simulate(cc.build_level_book({"binance": _tiny_map()}), np.zeros(1),
                              rules={"binance": cc.rules_for("binance")}, model=None,
                              engine=e),
    ]
    for call in calls:
        with pytest.raises(ConfigError, match=MESSAGE):
            call("fast")


def test_the_old_reference_flags_are_gone(bars):
    model = LiquidationModel(band="none")
    with pytest.raises(TypeError):
        model.run(bars, reference=True)
    with pytest.raises(TypeError):
        IncrementalModel(model, bars, reference=True)
    with pytest.raises(TypeError):
        bk.run_book(_tiny_inputs(), reference=True)


def test_reference_engine_gives_the_same_live_and_batch_results(bars):
    model = LiquidationModel(band="none", bin_usd=50.0)
    a, b = model.run(bars), model.run(bars, engine="reference")
    np.testing.assert_allclose(a.predicted_long_usd, b.predicted_long_usd, rtol=1e-9,
                               atol=1e-6)
    fast = IncrementalModel(model, bars).current_map()
    slow = IncrementalModel(model, bars, engine="reference").current_map()
    np.testing.assert_allclose(fast.long_usd, slow.long_usd, rtol=1e-9, atol=1e-6)


def _tiny_map() -> LiqMap:
    bins = np.array([99.0, 101.0])
    return LiqMap(0, 100.0, bins, np.array([1.0, 0.0]), np.array([0.0, 1.0]), venue="binance")


def _tiny_channels() -> inc.BookChannels:
    return inc.BookChannels(side=np.array([1]), factor=np.array([0.9]), w_aggr=np.ones(1),
                            w_pass=np.ones(1), rate_per_ms=np.zeros(1),
                            rank=np.zeros(1, np.int64))


def _tiny_inputs() -> bk.BookInputs:
    one, two = np.ones(2), np.ones((2, 1))
    return bk.BookInputs(
        low_usd=one, high_usd=one, dt_ms=np.zeros(2), oi_coin=one, entry_px_usd=two,
        entry_w=two, open_coin=np.zeros(2), aggr_long_share=one * 0.5,
        chan_w_aggr=np.ones(1), chan_w_pass=np.ones(1), chan_side=np.ones(1, np.int64),
        chan_factor=np.full(1, 0.9), chan_rate_per_ms=np.zeros(1),
        chan_rank=np.zeros(1, np.int64), p0_usd=0.0, bin_usd=1.0, n_bins=4,
        frame_idx=np.zeros(0, np.int64))

"""The incremental engine: ``LiquidationModel`` advanced one closed bar at a time.

``IncrementalModel(model, warm_bars)`` takes the model's set-up for the warm-up bars
(``model.setup(warm_bars, grid_pad=...)``, the ``liqmap.model_setup.ModelSetup`` that
``LiquidationModel.run`` builds its books from: band members, their channels, the grid),
builds one level book per band member, feeds the warm-up bars, then accepts one bar per
:meth:`IncrementalModel.update` with the compiled per-bar step of
``liqmap.core.incremental``.

Differences from the batch run, all fixed at construction from the warm-up bars:

* the **price grid** covers the warm-up range plus ``grid_pad`` of the price on each side;
  a bar that needs levels outside it (``ModelSetup.price_span``) grows the grid by whole
  bins (no level moves);
* the **bin width** (when ``model.bin_usd`` is None) is picked from the warm-up median
  close, where the batch run picks it from the whole series' median; give ``bin_usd`` to
  have both use the same;
* the **reference price** of coin-tiered venues (``binance-inverse``, multi-tier OKX) is
  the warm-up median close, where the batch run uses the whole series' median.

With an explicit ``bin_usd`` on a USD-tiered venue, bar-by-bar updates reproduce the batch
run's per-bar predicted liquidations and final map (``tests/live/test_live_engine.py``).

>>> from liqmap.io.sample import load_sample          # doctest: +SKIP
>>> bars = load_sample()                              # doctest: +SKIP
>>> warm, rest = bars.take(slice(0, 100)), bars.take(slice(100, 200))  # doctest: +SKIP
>>> im = IncrementalModel(LiquidationModel(bin_usd=50.0), warm)  # doctest: +SKIP
>>> im.update_bars(rest)[-1].predicted_long_usd        # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core import incremental as inc
from liqmap.core.bars import Bars
from liqmap.core.engines import check_engine
from liqmap.core.records import LiqMap
from liqmap.core.sides import aggressive_long_share, entry_prices
from liqmap.live.records import BarUpdate
from liqmap.model import LiquidationModel
from liqmap.model_setup import MAX_BINS, ModelSetup
from liqmap.venues import LiveBar, live_from_bars

__all__ = ["IncrementalModel"]



class IncrementalModel:
    """Level books of one venue, advanced one closed bar at a time.

    Parameters
    ----------
    model : LiquidationModel
        The parameters (venue rules, leverage preset, side model, policy, band...).
    warm_bars : Bars
        At least one bar; fed at construction (the first is the series' first bar).
    grid_pad : float
        Extra price range on each side of the warm-up grid, as a fraction of price.
    reference_price_usd : float, optional
        Entry price for the venue factors (``LiquidationModel`` uses the series' median
        close); default the warm-up median close. It matters for coin-tiered venues and,
        at the last bit of a float, for bin assignment on any venue.
    engine : {"numba", "reference"}
        The compiled per-bar step or its plain NumPy twin (slow; for checks;
        ``liqmap.core.engines``).

    Attributes
    ----------
    setup : ModelSetup
        The set-up the books were built from (the grid as at construction; :attr:`grid`
        is the current one).
    """

    def __init__(self, model: LiquidationModel, warm_bars: Bars, *, grid_pad: float = 0.1,
                 reference_price_usd: float | None = None, engine: str = "numba") -> None:
        if model.side_model == "taker" and warm_bars.taker_delta is not None \
                and warm_bars.taker_buy_volume is None:
            raise ConfigError("live side model 'taker' needs taker_buy_volume with volume "
                              "(the kline streams give it); choose --side-model candle")
        _check_warm(warm_bars)
        self.model = model
        self.venue, self.symbol = warm_bars.venue, warm_bars.symbol
        self.engine = check_engine(engine)
        self.setup: ModelSetup = model.setup(warm_bars, ref_price_usd=reference_price_usd,
                                             grid_pad=grid_pad)
        s = self.setup
        self.states = [inc.new_state(ch.side.size, s.n_bins, s.p0_usd, s.bin_usd)
                       for ch in s.channels]
        self.grid_growths = 0
        self.last_ts_ms: int | None = None
        self._oi_prev = 0.0
        self._last_close = float("nan")
        self.update_bars(warm_bars)

    # ------------------------------------------------------------------ public
    @property
    def members(self) -> tuple:
        """Band members (leverage presets), the central one first."""
        return self.setup.members

    @property
    def channels(self) -> tuple:
        """Per member, the channels its book runs (``inc.BookChannels``)."""
        return self.setup.channels

    @property
    def ref_price_usd(self) -> float:
        """Entry price the venue factors were computed at."""
        return self.setup.ref_price_usd

    @property
    def grid(self) -> tuple[float, float, int]:
        """``(p0_usd, bin_usd, n_bins)`` of the current grid."""
        s = self.states[0]
        return s.p0_usd, s.bin_usd, s.n_bins

    def update(self, bar: LiveBar, *, source: str | None = None) -> BarUpdate:
        """Feed one closed bar (open time after the last one); return its predictions."""
        _check_bar(bar, self.last_ts_ms, self.venue)
        share = self._share(bar)
        px, w = entry_prices(np.array([bar.high]), np.array([bar.low]), np.array([bar.close]),
                             self.model.entry_points)
        self._ensure_grid(bar.low, bar.high)
        first = self.last_ts_ms is None
        dt = 0.0 if self.last_ts_ms is None else float(bar.ts_ms - self.last_ts_ms)
        opened = 0.0 if first else max(bar.open_interest - self._oi_prev, 0.0)
        outs = [self._step(st, ch, first, dt, bar, opened, share, px[0], w[0])
                for st, ch in zip(self.states, self.channels)]
        self.last_ts_ms, self._oi_prev, self._last_close = int(bar.ts_ms), bar.open_interest, \
            bar.close
        lu = [o[0] for o in outs]
        su = [o[1] for o in outs]
        return BarUpdate(venue=self.venue, symbol=self.symbol, ts_ms=int(bar.ts_ms),
                         close_usd=float(bar.close), predicted_long_usd=lu[0],
                         predicted_short_usd=su[0], predicted_long_low_usd=min(lu),
                         predicted_long_high_usd=max(lu), predicted_short_low_usd=min(su),
                         predicted_short_high_usd=max(su),
                         source=source or bar.source)

    def update_bars(self, bars: Bars, *, source: str = "rest") -> list[BarUpdate]:
        """Feed every bar of ``bars`` in order; return the updates."""
        return [self.update(b, source=source) for b in live_from_bars(bars, source)]

    def current_map(self) -> LiqMap:
        """The liquidation map after the last bar (band from the presets' spread)."""
        if self.last_ts_ms is None:
            raise ConfigError("no bar fed yet")
        sides = [inc.side_usd(st, ch.side) for st, ch in zip(self.states, self.channels)]
        longs = np.array([s[0] for s in sides])
        shorts = np.array([s[1] for s in sides])
        band = len(sides) > 1
        return LiqMap(
            ts_ms=int(self.last_ts_ms), price_usd=self._last_close,
            price_bins_usd=self.states[0].centers_usd, long_usd=longs[0], short_usd=shorts[0],
            long_low_usd=longs.min(axis=0) if band else None,
            long_high_usd=longs.max(axis=0) if band else None,
            short_low_usd=shorts.min(axis=0) if band else None,
            short_high_usd=shorts.max(axis=0) if band else None,
            venue=self.venue, symbol=self.symbol)

    # ------------------------------------------------------------------ internals
    def _step(self, st, ch, first, dt, bar, opened, share, px_row, w_row):
        return inc.step_book(st, ch, first=first, dt_ms=dt, low_usd=bar.low, high_usd=bar.high,
                             oi_prev_coin=self._oi_prev, oi_coin=bar.open_interest,
                             opened_coin=opened, aggr_long_share=share, entry_px_usd=px_row,
                             entry_w=w_row, engine=self.engine)

    def _ensure_grid(self, low: float, high: float) -> None:
        lo, hi = self.setup.price_span(low, high)
        p0, b, n = self.grid
        add_low = max(int(np.ceil((p0 - lo) / b)), 0)
        add_high = max(int(np.ceil((hi - (p0 + n * b)) / b)) + 1, 0)
        if add_low == 0 and add_high == 0:
            return
        slack = max(n // 4, 1)
        add_low = add_low + slack if add_low else 0
        add_high = add_high + slack if add_high else 0
        if n + add_low + add_high > MAX_BINS:
            raise ConfigError(f"{n + add_low + add_high} price bins after growing the grid: "
                              "pick a larger bin_usd")
        self.states = [inc.grow_state(st, add_low, add_high) for st in self.states]
        self.grid_growths += 1

    def _share(self, bar: LiveBar) -> float:
        one = np.array
        fr = None if bar.funding_rate is None else one([bar.funding_rate])
        tbv = None if bar.taker_buy_volume is None else one([bar.taker_buy_volume])
        s = aggressive_long_share(
            self.model.side_model, open_usd=one([bar.open]), high_usd=one([bar.high]),
            low_usd=one([bar.low]), close_usd=one([bar.close]), volume=one([bar.volume]),
            taker_buy_volume=tbv, funding_rate=fr, strength=self.model.side_strength)
        return float(s[0])


def _check_warm(bars: Bars) -> None:
    if len(bars) < 1:
        raise DataError("the incremental model needs at least one warm-up bar; backfill "
                        "some history first", source=bars.source)


def _check_bar(bar: LiveBar, last_ts_ms: int | None, venue: str) -> None:
    if last_ts_ms is not None and bar.ts_ms <= last_ts_ms:
        raise DataError(f"bar {bar.ts_ms} is not after the last bar {last_ts_ms}; feed each "
                        "closed bar once, in order", source=f"live {venue}")
    vals = (bar.open, bar.high, bar.low, bar.close, bar.open_interest)
    if not all(np.isfinite(v) for v in vals):
        raise DataError(f"bar {bar.ts_ms} has a NaN price or open interest; attach the open "
                        "interest before feeding the bar", source=f"live {venue}")
    if bar.low <= 0 or bar.high < bar.low:
        raise DataError(f"bar {bar.ts_ms}: prices must be > 0 with low <= high",
                        source=f"live {venue}")

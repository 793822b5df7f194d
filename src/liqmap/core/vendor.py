"""The ``vendor-style`` convention: the map popular tools appear to draw, as level-book inputs.

Commercial maps publish no method (``METHOD.md`` section 3); what they appear to do, and
what this convention reproduces with the same level book (:mod:`liqmap.core.book`):

- **positions counted when opened**: every open-interest rise of a bar opens that quantity;
- **one side per bar, by candle colour**: a green bar (``close >= open``) opens longs only,
  a red one shorts only (aggressive share 1 or 0, no passive side; liqmap's own model opens
  both sides and softens the candle);
- **high leverage only**: the ``high-leverage`` preset (25/50/100x);
- **never removed when open interest falls**: open-interest policy ``none`` *and* no cap of
  a side at the open interest (the book is given an infinite open interest);
- levels that price crosses are removed, as vendor heatmaps clear them; no decay.

:func:`vendor_book_inputs` returns the :class:`~liqmap.core.book.BookInputs` of that
convention on a caller's price grid, so any engine run (``run_book``) can draw it.

>>> o = np.array([100.0, 100.0, 101.0]); c = np.array([100.0, 101.0, 100.0])
>>> candle_side_share(o, c).tolist()
[1.0, 1.0, 0.0]
"""

from __future__ import annotations

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core import book as bk
from liqmap.core._typing import ArrayLike, Float64Array1D, Int64Array1D
from liqmap.core.leverage import get_preset
from liqmap.core.liqprice import isolated_liq_factors
from liqmap.core.sides import entry_prices
from liqmap.core.tiers import TierTable

__all__ = ["VENDOR_LEVERAGE", "VENDOR_STYLE", "candle_side_share", "vendor_book_inputs"]

VENDOR_STYLE = "vendor-style"
"""The convention's name in every output."""
VENDOR_LEVERAGE = "high-leverage"
"""Leverage preset of the convention (25/50/100x, ``liqmap.core.leverage``)."""


def candle_side_share(open_usd: ArrayLike, close_usd: ArrayLike) -> Float64Array1D:
    """1.0 for a green bar (``close >= open``: longs opened), 0.0 for a red one (shorts).

    A bar with ``close == open`` counts as green (no third colour exists on a chart).
    """
    o, c = np.asarray(open_usd, float), np.asarray(close_usd, float)
    return np.where(c >= o, 1.0, 0.0)


def _channels(venue: str, leverage: str, position_notional_usd: float,
              table: TierTable | None = None,
              ) -> tuple[Int64Array1D, Float64Array1D, Float64Array1D]:
    preset = get_preset(leverage)
    lev = np.asarray(preset.leverages, float)
    w = np.asarray(preset.weights, float)
    f_long, f_short = (np.asarray(f, float) for f in
                       isolated_liq_factors(venue, lev, position_notional_usd, table=table))
    ok_l = np.isfinite(f_long) & (f_long > 0)
    ok_s = np.isfinite(f_short) & (f_short > 0)
    side = np.r_[np.ones(ok_l.sum(), np.int64), -np.ones(ok_s.sum(), np.int64)]
    return side, np.r_[w[ok_l], w[ok_s]], np.r_[f_long[ok_l], f_short[ok_s]]


def vendor_book_inputs(*, open_usd: ArrayLike, high_usd: ArrayLike, low_usd: ArrayLike,
                       close_usd: ArrayLike, oi_coin: ArrayLike, p0_usd: float,
                       bin_usd: float, n_bins: int, frame_idx: ArrayLike | None = None,
                       venue: str = "binance",
                       leverage: str = VENDOR_LEVERAGE,
                       position_notional_usd: float = 10_000.0,
                       entry_points: int = 4,
                       table: TierTable | None = None) -> bk.BookInputs:
    """Level-book inputs of the ``vendor-style`` convention (module docstring).

    Parameters
    ----------
    open_usd, high_usd, low_usd, close_usd : (T,) float64
        Bar prices.
    oi_coin : (T,) float64
        Open interest at each bar's close, base units: its rises are the openings.
    p0_usd, bin_usd, n_bins
        The price grid (lower edge of bin 0, width, count).
    frame_idx : (F,) int64, optional
        Bars after which the book is snapshotted; default none.
    venue, leverage, position_notional_usd, entry_points
        Liquidation rules, leverage preset, representative size (margin tier), entry
        prices per bar (spread over the bar as liqmap's model spreads them).
    table : TierTable, optional
        The margin tiers (the symbol's, as the model chooses them); default the venue's
        BTC table.

    Returns
    -------
    BookInputs
        Passive weights zero, candle share 0/1, policy ``POLICY_NONE``, infinite open
        interest (no cap), no decay.

    Examples
    --------
    >>> px = np.array([100.0, 100.0]); oi = np.array([1.0, 3.0])
    >>> inp = vendor_book_inputs(open_usd=px, high_usd=px + 1, low_usd=px - 1,
    ...     close_usd=px + 0.5, oi_coin=oi, p0_usd=50.0, bin_usd=0.5, n_bins=200)
    >>> inp.open_coin.tolist(), inp.aggr_long_share.tolist(), float(inp.chan_w_pass.sum())
    ([0.0, 2.0], [1.0, 1.0], 0.0)
    """
    if not (bin_usd > 0 and n_bins >= 1):
        raise ConfigError("the grid needs bin_usd > 0 and n_bins >= 1")
    oi = np.asarray(oi_coin, float)
    n = oi.size
    side, w, factor = _channels(venue, leverage, position_notional_usd, table)
    px, pw = entry_prices(high_usd, low_usd, close_usd, entry_points)
    return bk.BookInputs(
        low_usd=np.asarray(low_usd, float), high_usd=np.asarray(high_usd, float),
        dt_ms=np.zeros(n), oi_coin=np.full(n, np.inf), entry_px_usd=px, entry_w=pw,
        open_coin=np.diff(oi, prepend=oi[:1]).clip(min=0.0),
        aggr_long_share=candle_side_share(open_usd, close_usd), chan_w_aggr=w,
        chan_w_pass=np.zeros(w.size), chan_side=side, chan_factor=factor,
        chan_rate_per_ms=np.zeros(w.size), chan_rank=np.arange(w.size, dtype=np.int64),
        p0_usd=float(p0_usd), bin_usd=float(bin_usd), n_bins=int(n_bins),
        frame_idx=np.zeros(0, np.int64) if frame_idx is None
        else np.asarray(frame_idx, np.int64),
        policy=bk.POLICY_NONE)

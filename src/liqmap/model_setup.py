"""The model's set-up: what a run fixes from its parameters and bars before the first bar.

``LiquidationModel.setup(bars)`` returns a :class:`ModelSetup`, the one home of these
facts, read by the batch run (``LiquidationModel.run``), the live engine
(``liqmap.live.IncrementalModel``) and the calibration (:func:`auto_bin`):

1. **band members**: the central leverage preset first, then the band presets other than it
   (``band="presets"``; none for ``band="none"``);
2. **reference price**: the median close (venues whose tiers are in coin need an entry
   price to turn a leverage into a liquidation factor); the live engine may pass its own;
3. **channels** per member, one per (side, leverage): the preset's and the passive
   preset's leverages (capped at the venue's maximum), their weights, the liquidation
   factor (``liqmap.core.liqprice``), the decay rate of ``half_life_hours`` and the removal
   rank for the leverage-first policy; a leverage whose factor is not positive and finite
   (never liquidated) has no channel; longs come first;
4. **price grid** ``(p0_usd, bin_usd, n_bins)``: bins of ``model.bin_usd`` (else
   :func:`auto_bin` of the median close) anchored on multiples of the width, spanning
   :meth:`ModelSetup.price_span` of the bars' lowest low and highest high, widened by
   ``grid_pad`` of the price on each side (the live engine's headroom; 0 for a batch run);
   more than :data:`MAX_BINS` bins is refused.

:func:`check_bars` is the check every bar series passes before a batch run.

>>> import numpy as np
>>> from liqmap.core.bars import Bars
>>> from liqmap.model import LiquidationModel
>>> px = np.full(3, 50_000.0)
>>> bars = Bars(np.arange(3) * 60_000, px, px * 1.001, px * 0.999, px, np.full(3, 1e3))
>>> s = LiquidationModel(band="none").setup(bars)
>>> s.member_names, s.bin_usd, bool(s.channels[0].side[0] == 1)
(('all-leverage',), 25.0, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.core.bars import Bars
from liqmap.core.incremental import BookChannels
from liqmap.core.leverage import PASSIVE_PRESET, LeveragePreset, get_preset
from liqmap.core.liqprice import isolated_liq_factors, max_leverage
from liqmap.core.tiers import TierTable, get_tier_table
from liqmap.params import OI_POLICIES, half_lives
from liqmap.timeutil import MS_PER_HOUR, utc_date

__all__ = ["GRID_PAD", "MAX_BINS", "ModelSetup", "auto_bin", "band_members", "check_bars",
           "member_channels", "model_setup", "symbol_tier_table"]

MAX_BINS = 200_000
"""Most price bins a grid may have (a wider span needs a larger ``bin_usd``)."""
GRID_PAD = (0.99, 1.01)
"""The grid reaches from the lowest low x the lowest long factor x 0.99 to the highest
high x the highest short factor x 1.01 (a level just outside the traded range still lands)."""


class ModelParams(Protocol):
    """The ``LiquidationModel`` fields the set-up reads (read-only, as the model is frozen;
    a Protocol, so that this module does not import ``liqmap.model``, which imports it)."""

    @property
    def venue(self) -> str: ...
    @property
    def leverage(self) -> str: ...
    @property
    def oi_policy(self) -> str: ...
    @property
    def half_life_hours(self) -> float | str | None: ...
    @property
    def position_notional_usd(self) -> float: ...
    @property
    def bin_usd(self) -> float | None: ...
    @property
    def band(self) -> str: ...
    @property
    def band_presets(self) -> tuple[str, ...]: ...
    @property
    def tier_version(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ModelSetup:
    """What a run of the model fixes before the first bar (``LiquidationModel.setup``).

    Attributes
    ----------
    members : tuple of LeveragePreset
        Band members, the central preset first.
    ref_price_usd : float
        Entry price the venue factors were computed at.
    leverages : tuple of (C,) float64
        Per member, the leverage of each channel.
    channels : tuple of BookChannels
        Per member, the channels (side, factor, weights, decay rate, rank, OI policy).
    p0_usd, bin_usd : float
        Lower edge of bin 0 and the bin width; ``n_bins`` bins.
    n_bins : int
    tier_table : str
        The note naming the margin tiers used (:func:`symbol_tier_table`).
    table : TierTable
        Those tiers (both conventions price with them).
    """

    members: tuple[LeveragePreset, ...]
    ref_price_usd: float
    leverages: tuple[np.ndarray, ...]
    channels: tuple[BookChannels, ...]
    p0_usd: float
    bin_usd: float
    n_bins: int
    tier_table: str = ""
    table: TierTable | None = None

    @property
    def member_names(self) -> tuple[str, ...]:
        """Names of the band members, the central preset first."""
        return tuple(p.name for p in self.members)

    @property
    def grid(self) -> tuple[float, float, int]:
        """``(p0_usd, bin_usd, n_bins)``."""
        return self.p0_usd, self.bin_usd, self.n_bins

    @property
    def centers_usd(self) -> np.ndarray:
        """Bin centres, USD (the expression the kernels use)."""
        return self.p0_usd + (np.arange(self.n_bins) + 0.5) * self.bin_usd

    def price_span(self, low_usd: float, high_usd: float) -> tuple[float, float]:
        """Prices a bar range ``low_usd .. high_usd`` can place levels between (the grid
        must cover it): the lowest long and highest short factor over all members, and
        :data:`GRID_PAD`."""
        return _price_span(self.channels, low_usd, high_usd)


def model_setup(model: ModelParams, bars: Bars, *, ref_price_usd: float | None = None,
                grid_pad: float = 0.0) -> ModelSetup:
    """The set-up of ``model`` for ``bars`` (at least one bar; see the module docstring).

    Parameters
    ----------
    model : LiquidationModel
    bars : Bars
        The bars the grid must cover (the whole series of a batch run; the live engine's
        warm-up bars).
    ref_price_usd : float, optional
        Entry price for the venue factors; default the bars' median close.
    grid_pad : float
        Extra price range on each side of the grid, as a fraction of price.
    """
    median = float(np.median(bars.close))
    ref = median if ref_price_usd is None else float(ref_price_usd)
    members = band_members(model)
    table, note = symbol_tier_table(model, bars.symbol, stored=bars.tier_tables,
                                    as_of_ms=int(bars.ts_ms[-1]))
    built = [member_channels(model, p, ref, table=table) for p in members]
    channels = tuple(ch for _, ch in built)
    bin_usd = model.bin_usd or auto_bin(median)
    lo, hi = _price_span(channels, float(np.min(bars.low)), float(np.max(bars.high)))
    p0 = np.floor(lo * (1 - grid_pad) / bin_usd) * bin_usd
    n_bins = int(np.ceil((hi * (1 + grid_pad) - p0) / bin_usd)) + 1
    if n_bins > MAX_BINS:
        _too_many_bins(bars, n_bins, bin_usd)
    return ModelSetup(members=members, ref_price_usd=ref, leverages=tuple(lv for lv, _ in built),
                      tier_table=note, table=table,
                      channels=channels, p0_usd=float(p0), bin_usd=float(bin_usd),
                      n_bins=n_bins)


def band_members(model: ModelParams) -> tuple[LeveragePreset, ...]:
    """The central preset, then each band preset other than it (none without a band)."""
    central = get_preset(model.leverage)
    band = [get_preset(n) for n in model.band_presets] if model.band == "presets" else []
    return (central,) + tuple(p for p in band if p != central)


def symbol_tier_table(model: ModelParams, symbol: str | None, *,
                      stored: Iterable[TierTable] = (),
                      as_of_ms: int | None = None) -> tuple[TierTable, str]:
    """The margin tiers for ``symbol`` on the model's venue (at ``tier_version``) and a note
    naming the table; the venue's BTC table, said so in the note, when ``symbol`` has none.

    ``stored``: tables fetched by ``liqmap tiers --refresh`` (a store's, ``Bars.tier_tables``),
    looked up with the shipped ones by :func:`liqmap.core.tiers.get_tier_table` (the
    ``tiers --db`` lookup), those fetched on or before the UTC day of ``as_of_ms`` (the
    map's time) only; the note then says ``fetched <day> (store)``.

    >>> from liqmap.model import LiquidationModel
    >>> symbol_tier_table(LiquidationModel(), "ETH/USDT:USDT")[1][:22]
    'binance ETHUSDT tiers '
    """
    day = None if as_of_ms is None else utc_date(as_of_ms)
    kept = [t for t in stored if day is None or t.version <= day]
    try:
        table = get_tier_table(model.venue, symbol=symbol, version=model.tier_version,
                               stored=kept)
        fallback = ""
    except ConfigError:
        if symbol is None:
            raise
        table = get_tier_table(model.venue, version=model.tier_version, stored=kept)
        base = symbol.split("/")[0].upper()
        later = "" if day is None or not any(t.venue == model.venue for t in stored) else (
            f" or was fetched by {day}")
        fallback = "" if base == "BTC" else (
            f" (fallback: no {model.venue} table for {symbol} is shipped{later})")
    fetched = any(t is table for t in kept)
    note = (f"{model.venue} {table.symbol} tiers {'fetched ' if fetched else ''}"
            f"{table.version}{' (store)' if fetched else ''}"
            f"{'' if table.verified else ', not verified'}{fallback}")
    return table, note


def member_channels(model: ModelParams, preset: LeveragePreset, ref_price_usd: float, *,
                    table: TierTable | None = None) -> tuple[np.ndarray, BookChannels]:
    """``(leverages, channels)`` of one band member: one channel per side and leverage whose
    liquidation factor is positive and finite, longs first. ``table``: the margin tiers
    (default the venue's BTC table at ``tier_version``; see :func:`symbol_tier_table`)."""
    if table is None:
        table = (get_tier_table(model.venue, version=model.tier_version)
                 if model.tier_version else None)
    cap = max_leverage(model.venue, table=table)  # no position opens above the venue's max
    lev = np.union1d(np.minimum(preset.leverages, cap),
                     np.minimum(PASSIVE_PRESET.leverages, cap))
    w_aggr = _weights_on(lev, preset, cap)
    w_pass = _weights_on(lev, PASSIVE_PRESET, cap)
    f_long, f_short = isolated_liq_factors(model.venue, lev, model.position_notional_usd,
                                           table=table, reference_price_usd=ref_price_usd)
    f_long, f_short = np.asarray(f_long, float), np.asarray(f_short, float)
    ok_l = (f_long > 0) & np.isfinite(f_long)
    ok_s = np.isfinite(f_short) & (f_short > 0)
    chan_lev = np.r_[lev[ok_l], lev[ok_s]]
    half = _half_lives(model.half_life_hours, chan_lev)
    return chan_lev, BookChannels(
        side=np.r_[np.ones(ok_l.sum(), np.int64), -np.ones(ok_s.sum(), np.int64)],
        factor=np.r_[f_long[ok_l], f_short[ok_s]],
        w_aggr=np.r_[w_aggr[ok_l], w_aggr[ok_s]], w_pass=np.r_[w_pass[ok_l], w_pass[ok_s]],
        rate_per_ms=np.where(np.isfinite(half), np.log(2.0) / (half * MS_PER_HOUR), 0.0),
        rank=np.argsort(np.argsort(-chan_lev, kind="stable"), kind="stable").astype(np.int64),
        policy=OI_POLICIES[model.oi_policy])


def auto_bin(price_usd: float) -> float:
    """The automatic price-bin width: about 0.05 % of ``price_usd``, rounded to 1, 2, 2.5
    or 5 times a power of ten.

    >>> auto_bin(87_000.0), auto_bin(3.2)
    (50.0, 0.002)
    """
    raw = price_usd * 0.0005
    mag = 10 ** np.floor(np.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * mag:
            return float(step * mag)
    return float(10 * mag)  # pragma: no cover


def check_bars(bars: Bars) -> None:
    """Raise ``DataError`` (naming the source and row) unless ``bars`` can be run: at
    least two bars, finite prices and open interest, ``0 < low <= high``."""
    if len(bars) < 2:
        raise DataError("need at least 2 bars in the window; widen the lookback or "
                        "check the time range", source=bars.source)
    for name in ("open", "high", "low", "close", "open_interest"):
        arr = getattr(bars, name)
        if not np.all(np.isfinite(arr)):
            row = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise DataError(f"{name} is NaN or infinite; load the file with liqmap's loaders "
                            "(they validate) or drop the row", source=bars.source, row=row)
    if np.any(bars.low <= 0) or np.any(bars.high < bars.low):
        row = int(np.flatnonzero((bars.low <= 0) | (bars.high < bars.low))[0])
        raise DataError("prices must be > 0 with low <= high", source=bars.source, row=row)


# ---------------------------------------------------------------------- helpers


def _price_span(channels, low_usd: float, high_usd: float) -> tuple[float, float]:
    f_l = [ch.factor[ch.side > 0] for ch in channels]
    f_s = [ch.factor[ch.side < 0] for ch in channels]
    f_lo = min((float(x.min()) for x in f_l if x.size), default=1.0)
    f_hi = max((float(x.max()) for x in f_s if x.size), default=1.0)
    return (low_usd * min(f_lo, 1.0) * GRID_PAD[0], high_usd * max(f_hi, 1.0) * GRID_PAD[1])


def _too_many_bins(bars: Bars, n_bins: int, bin_usd: float) -> None:
    i, j = int(np.argmin(bars.low)), int(np.argmax(bars.high))
    raise ConfigError(
        f"{n_bins} price bins of {bin_usd:g} USD: the prices of {bars.source} span from "
        f"min low {float(bars.low[i]):.10g} (row {i}, ts_ms {int(bars.ts_ms[i])}) to max "
        f"high {float(bars.high[j]):.10g} (row {j}, ts_ms {int(bars.ts_ms[j])}); if one "
        "of them is off, fix or drop that row (or pass --repair), else pick a larger "
        "--bin-usd")


def _weights_on(lev: np.ndarray, preset: LeveragePreset, cap: float) -> np.ndarray:
    """The preset's weights on the channel leverages ``lev``; a preset leverage above the
    venue's maximum ``cap`` counts at the maximum (nobody can open more)."""
    w = np.zeros(lev.size)
    idx = np.searchsorted(lev, np.minimum(preset.leverages, cap))
    np.add.at(w, idx, preset.weights)
    return w


def _half_lives(spec, chan_lev) -> np.ndarray:
    """Half-life (hours) of each channel's leverage; inf = no decay (``liqmap.params``
    parses ``spec``)."""
    lev = np.asarray(chan_lev, float)
    hl = half_lives(spec)
    if hl is None:
        return np.full(lev.size, np.inf)
    if isinstance(hl, float):
        return np.full(lev.size, hl)
    return np.array([hl.get(x, np.inf) for x in lev])

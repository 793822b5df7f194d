"""The estimator: ``LiquidationModel(...).run(bars) -> Estimate``.

The model's parameters are all visible (``LiquidationModel`` fields, printed by
``liqmap show-config``); ``run`` turns a bar series into the level book, the heatmap, the
per-bar predicted liquidations and the final liquidation map, with a low/central/high band
from the spread of leverage presets.

>>> from liqmap.io.sample import load_sample            # doctest: +SKIP
>>> est = LiquidationModel(leverage="all-leverage").run(load_sample(), lookback="7d")  # doctest: +SKIP
>>> est.summary()["map"]["imbalance"]["20pct"]["ratio"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import numpy as np

from liqmap._exceptions import ConfigError, DataError
from liqmap.bars import Bars
from liqmap.core import book as bk
from liqmap.core.leverage import PASSIVE_PRESET, LeveragePreset, get_preset
from liqmap.core.liqprice import isolated_liq_factors, max_leverage
from liqmap.core.mapstats import MAX_PRICE_SPREAD
from liqmap.core.records import Heatmap, LiqMap
from liqmap.core.sides import aggressive_long_share, entry_prices
from liqmap.core.tiers import get_tier_table
from liqmap.params import OI_POLICIES, check_model, half_lives

__all__ = ["LOOKBACKS_MS", "OI_POLICIES", "Estimate", "LiquidationModel", "check_at_ms",
           "common_at_ms"]

_H = 3_600_000
LOOKBACKS_MS = {
    "12h": 12 * _H, "24h": 24 * _H, "3d": 72 * _H, "7d": 168 * _H,
    "30d": 720 * _H, "90d": 2160 * _H, "180d": 4320 * _H, "1y": 8760 * _H,
}


@dataclass(frozen=True, slots=True)
class LiquidationModel:
    """Estimate liquidation levels from bars and open interest.

    Parameters
    ----------
    venue : str
        Liquidation-price rules to use (``liqmap.core.liqprice``): binance, bybit, okx,
        hyperliquid, binance-inverse.
    leverage : str
        Leverage preset name (``liqmap.core.leverage.PRESETS``) or weights
        ``"10:0.3,25:0.4,50:0.3"`` for the aggressive side of new open interest.
    side_model : str
        Which side of new open interest is the aggressive one (``liqmap.core.sides``).
    side_strength : float
        Shrinks the side model towards 50/50 (0 = neutral, 1 = full).
    oi_policy : str
        How levels shrink when open interest falls: proportional, net, leverage-first, none.
    half_life_hours : float or str or None
        Decay of levels: one half-life for all tiers, ``"100:6,50:12"`` per leverage tier
        (tiers not named do not decay), or None for no decay.
    position_notional_usd : float
        Representative position size: picks the venue's margin tier (bracket).
    bin_usd : float or None
        Price-bin width; None picks about 0.05 % of the median close, rounded.
    entry_points : int
        Entry prices per bar (spread over the bar's range).
    frames : int
        Heatmap frames (snapshots of the book), at most one per bar.
    band : str
        ``"presets"``: low/high band = min/max over ``band_presets`` and the central preset;
        ``"none"``: no band.
    band_presets : tuple of str
        Presets forming the band.
    tier_version : str or None
        Version (date) of the venue's margin-tier table; None = latest.
    """

    venue: str = "binance"
    leverage: str = "all-leverage"
    side_model: str = "candle"
    side_strength: float = 1.0
    oi_policy: str = "proportional"
    half_life_hours: float | str | None = None
    position_notional_usd: float = 10_000.0
    bin_usd: float | None = None
    entry_points: int = 4
    frames: int = 600
    band: str = "presets"
    band_presets: tuple[str, ...] = ("all-leverage", "peer-common", "high-leverage",
                                     "low-leverage")
    tier_version: str | None = None

    def __post_init__(self) -> None:
        # every field against its spec in liqmap.params (types, ranges, the venue's
        # maximum leverage): the same checks as for flags, environment, TOML and grids
        check_model({f: getattr(self, f) for f in self.__dataclass_fields__})

    @classmethod
    def from_preset(cls, name: str) -> "LiquidationModel":
        """The engine parameters of a fitted preset shipped with the package (or a preset
        JSON path), e.g. ``"fitted-binance-btcusdt-2025-12"``; see ``liqmap.scorecard.preset``
        for its combination coefficients and fit span."""
        from liqmap.scorecard.preset import load_preset

        return load_preset(name).model

    def to_dict(self) -> dict:
        """All parameters, JSON-ready."""
        d = asdict(self)
        d["band_presets"] = list(self.band_presets)
        return d

    def run(self, bars: Bars, *, lookback: str | None = None, at_ms: int | None = None,
            reference: bool = False, progress=None) -> "Estimate":
        """Run the level book over ``bars`` (optionally a lookback window ending at ``at_ms``).

        ``reference=True`` runs the plain NumPy twin instead of the compiled kernel (slow;
        for checks). ``progress(done, total, preset_name)`` is called after each preset run.
        """
        bars = _window(bars, lookback, at_ms)
        _check_bars(bars)
        central = get_preset(self.leverage)
        members = [central] + [get_preset(n) for n in self.band_presets
                               if self.band == "presets" and get_preset(n) != central]
        grid = _grid(self, bars, members)
        frame_idx = _frame_idx(len(bars), self.frames)
        share = aggressive_long_share(
            self.side_model, open_usd=bars.open, high_usd=bars.high, low_usd=bars.low,
            close_usd=bars.close, volume=bars.volume, taker_buy_volume=bars.taker_buy_volume,
            taker_delta=bars.taker_delta, funding_rate=bars.funding_rate,
            strength=self.side_strength)
        px, w = entry_prices(bars.high, bars.low, bars.close, self.entry_points)
        outs, seconds = [], []
        for i, preset in enumerate(members):
            inp = self._inputs(bars, preset, share, px, w, grid,
                               frame_idx if i == 0 else np.zeros(0, np.int64))
            t0 = time.perf_counter()
            outs.append(bk.run_book(inp, reference=reference))
            seconds.append(time.perf_counter() - t0)
            if progress is not None:
                progress(i + 1, len(members), preset.name)
        return _assemble(self, bars, grid, frame_idx, outs, members, seconds)

    # ------------------------------------------------------------------ internals
    def _channels(self, preset: LeveragePreset, ref_price_usd: float):
        table = (get_tier_table(self.venue, version=self.tier_version)
                 if self.tier_version else None)
        cap = max_leverage(self.venue, table=table)  # no position opens above the venue's max
        lev = np.union1d(np.minimum(preset.leverages, cap),
                         np.minimum(PASSIVE_PRESET.leverages, cap))
        w_aggr = _weights_on(lev, preset, cap)
        w_pass = _weights_on(lev, PASSIVE_PRESET, cap)
        f_long, f_short = isolated_liq_factors(self.venue, lev, self.position_notional_usd,
                                               table=table, reference_price_usd=ref_price_usd)
        return lev, w_aggr, w_pass, np.asarray(f_long, float), np.asarray(f_short, float)

    def _inputs(self, bars, preset, share, px, w, grid, frame_idx) -> bk.BookInputs:
        lev, w_aggr, w_pass, f_long, f_short = self._channels(preset, _ref_price(bars))
        d_oi = np.diff(bars.open_interest, prepend=bars.open_interest[0]).clip(min=0.0)
        ok_l = (f_long > 0) & np.isfinite(f_long)
        ok_s = np.isfinite(f_short) & (f_short > 0)
        side = np.r_[np.ones(ok_l.sum(), np.int64), -np.ones(ok_s.sum(), np.int64)]
        chan_lev = np.r_[lev[ok_l], lev[ok_s]]
        half = _parse_half_lives(self.half_life_hours, chan_lev)
        rate = np.where(np.isfinite(half), np.log(2.0) / (half * _H), 0.0)
        rank = np.argsort(np.argsort(-chan_lev, kind="stable"), kind="stable").astype(np.int64)
        dt = np.diff(bars.ts_ms, prepend=bars.ts_ms[0]).astype(float)
        p0, bin_usd, n_bins = grid
        return bk.BookInputs(
            low_usd=bars.low, high_usd=bars.high, dt_ms=dt, oi_coin=bars.open_interest,
            entry_px_usd=px, entry_w=w, open_coin=d_oi, aggr_long_share=share,
            chan_w_aggr=np.r_[w_aggr[ok_l], w_aggr[ok_s]],
            chan_w_pass=np.r_[w_pass[ok_l], w_pass[ok_s]], chan_side=side, chan_factor=np.r_[f_long[ok_l], f_short[ok_s]],
            chan_rate_per_ms=rate, chan_rank=rank, p0_usd=p0, bin_usd=bin_usd,
            n_bins=n_bins, frame_idx=frame_idx, policy=OI_POLICIES[self.oi_policy])


@dataclass(frozen=True, slots=True)
class Estimate:
    """Read-only result of ``LiquidationModel.run``.

    Attributes
    ----------
    model : LiquidationModel
        The parameters used.
    bars : Bars
        The bars the book was built from (after the lookback window was applied).
    heatmap : Heatmap
        Book snapshots of the central preset.
    predicted_long_usd, predicted_short_usd : (T,) float64
        Predicted liquidations per bar (central preset).
    predicted_long_low_usd, predicted_long_high_usd, predicted_short_low_usd,
    predicted_short_high_usd : (T,) float64
        Band over the presets (equal to the central series when there is no band).
    final_map : LiqMap
        The map after the last bar, with band arrays.
    engine_seconds : float
        Kernel time of all preset runs; ``engine_seconds_central`` of the central one.
    """

    model: LiquidationModel
    bars: Bars
    heatmap: Heatmap
    predicted_long_usd: np.ndarray
    predicted_short_usd: np.ndarray
    predicted_long_low_usd: np.ndarray
    predicted_long_high_usd: np.ndarray
    predicted_short_low_usd: np.ndarray
    predicted_short_high_usd: np.ndarray
    final_map: LiqMap
    engine_seconds: float
    engine_seconds_central: float
    members: tuple[str, ...] = field(default=())

    def map_at(self, ts_ms: int) -> LiqMap:
        """The map as it stood after the bar that opened at or before ``ts_ms``.

        ``ts_ms`` must lie from the window's second bar to one bar after its last bar
        (``check_at_ms``); outside, ``ConfigError`` names the span instead of clamping.
        """
        check_at_ms(self.bars, ts_ms, name="ts_ms")
        if ts_ms >= int(self.bars.ts_ms[-1]):
            return self.final_map
        end = int(np.searchsorted(self.bars.ts_ms, ts_ms, side="right"))
        return self.model.run(self.bars.take(slice(0, end))).final_map

    def summary(self) -> dict:
        """JSON-ready summary: window, parameters, totals, the final map's analytics."""
        from liqmap.core import mapstats

        b = self.bars
        return {
            "venue": self.model.venue, "symbol": b.symbol, "source": b.source,
            "bars": len(b), "bar_ms": b.bar_ms,
            "start_ms": int(b.ts_ms[0]), "end_ms": int(b.ts_ms[-1]),
            "params": self.model.to_dict(), "band_members": list(self.members),
            "engine_seconds": self.engine_seconds,
            "engine_seconds_central": self.engine_seconds_central,
            "predicted_long_usd": float(self.predicted_long_usd.sum()),
            "predicted_short_usd": float(self.predicted_short_usd.sum()),
            "predicted_long_usd_band": [float(self.predicted_long_low_usd.sum()),
                                        float(self.predicted_long_high_usd.sum())],
            "predicted_short_usd_band": [float(self.predicted_short_low_usd.sum()),
                                         float(self.predicted_short_high_usd.sum())],
            "map": mapstats.summary(self.final_map),
        }

    def plot(self, out_dir, *, stem: str = "liqmap") -> dict:
        """Write the heatmap (PNG, HTML) and the map chart (PNG, HTML) into ``out_dir``."""
        from liqmap.plots.render import render_estimate

        return render_estimate(self, out_dir, stem=stem)


# ---------------------------------------------------------------------- helpers


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "beyond the calendar"


def _span(bars: Bars) -> str:
    first, last = int(bars.ts_ms[0]), int(bars.ts_ms[-1])
    return (f"{bars.source} ({bars.venue}) spans {_iso(first)} .. {_iso(last)} "
            f"(Unix ms {first} .. {last}, {len(bars)} bars)")


def _unit_hint(at_ms: int, first_ms: int, hi_ms: int) -> str:
    digits = len(str(abs(int(at_ms))))
    if digits == 10 or first_ms <= at_ms * 1000 <= hi_ms:
        return "this looks like seconds; give milliseconds (x1000) or an ISO time"
    if digits == 16 or first_ms <= at_ms // 1000 <= hi_ms:
        return "this looks like microseconds; give milliseconds (/1000) or an ISO time"
    return "give a time inside it (Unix ms or ISO, e.g. 2025-12-20T12:00)"


def check_at_ms(bars: Bars, at_ms: int, *, name: str = "at_ms") -> None:
    """Raise ``ConfigError`` unless a map can be taken at ``at_ms`` (Unix ms) from ``bars``.

    A map needs two bars and stands after the bar open at or before ``at_ms``, so
    ``at_ms`` must lie from the second bar's open to one bar after the last bar's open.
    Nothing is clamped: the message names ``name``, the source, its span (ISO and Unix
    ms), and says so when the value looks like Unix seconds or microseconds.

    Examples
    --------
    >>> b = Bars(np.array([0, 60_000, 120_000]), *[np.ones(3)] * 5)
    >>> check_at_ms(b, 90_000)
    >>> check_at_ms(b, 10**6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    liqmap._exceptions.ConfigError: at_ms 1000000 (...) is outside the data: after the ...
    """
    if len(bars) < 2:
        return  # ``_check_bars`` says what is wrong
    step = max(bars.bar_ms, 1)
    first, lo, hi = int(bars.ts_ms[0]), int(bars.ts_ms[1]), int(bars.ts_ms[-1]) + step
    at = int(at_ms)
    if lo <= at <= hi:
        return
    where = ("after the last bar" if at > hi
             else "before the second bar (a map needs 2 bars)")
    raise ConfigError(
        f"{name} {at} ({_iso(at)}) is outside the data: {where}; {_span(bars)}, so a map "
        f"can be taken from {_iso(lo)} to {_iso(hi)}; {_unit_hint(at, first, hi)}")


def _distinct(series: Sequence[Bars]) -> None:
    """Refuse identical bar series and two series of one venue."""
    for i, a in enumerate(series):
        for b in series[:i]:
            if len(a) == len(b) and all(np.array_equal(getattr(a, f), getattr(b, f))
                                        for f in ("ts_ms", "close", "open_interest")):
                raise ConfigError(
                    f"{b.source} and {a.source} hold identical bars: the same data summed "
                    "twice doubles the totals; give each venue's own data once")
            if a.venue == b.venue:
                raise ConfigError(
                    f"{b.source} and {a.source} are both venue {a.venue!r}: aggregate one "
                    "input per venue, or name each input's venue if they differ (CLI: "
                    "--input a.csv@binance --input b.csv@bybit)")


def _bar_at(bars: Bars, at_ms: int) -> int:
    """Index of the bar open at or before ``at_ms``; refuses a gap (no bar within one bar)."""
    i = int(np.searchsorted(bars.ts_ms, at_ms, side="right")) - 1
    if i < 0 or at_ms - int(bars.ts_ms[i]) > max(bars.bar_ms, 1):
        last = "none" if i < 0 else _iso(int(bars.ts_ms[i]))
        raise ConfigError(f"{bars.source} has no bar within one bar before {_iso(at_ms)} "
                          f"(last bar before it: {last}; a gap in the data): pick another "
                          "time")
    return i


def common_at_ms(series: Sequence[Bars], at_ms: int | None = None, *,
                 name: str = "at_ms") -> int:
    """The one instant at which the maps of several venues are taken and summed.

    ``at_ms`` when given (it must lie inside every series, ``check_at_ms``), else the
    latest instant all series cover: the earliest of their last bars. Each venue's map is
    then the map standing at that instant (``run(bars, at_ms=...)``), so
    ``mapstats.aggregate`` sums maps of one instant.

    Raises
    ------
    ConfigError
        Two identical series or two of one venue; spans with no common instant (at least
        two bars each); a gap at the instant; prices at the instant more than
        ``mapstats.MAX_PRICE_SPREAD`` apart (another symbol or unit?). Every message
        names the inputs and their figures.

    Examples
    --------
    >>> a = Bars(np.array([0, 60_000, 120_000]), *[np.ones(3)] * 5, venue="binance")
    >>> b = Bars(np.array([0, 60_000]), *[np.ones(2)] * 5, venue="bybit")
    >>> common_at_ms([a, b])
    60000
    """
    series = list(series)
    _distinct(series)
    if at_ms is None:
        at_ms = min(int(b.ts_ms[-1]) for b in series)
        if any(len(b) < 2 or at_ms < int(b.ts_ms[1]) for b in series):
            spans = "; ".join(_span(b) for b in series if len(b))
            raise ConfigError(f"the inputs' time spans do not overlap (each needs 2 bars "
                              f"before a common time): {spans}; give inputs that cover a "
                              "common time")
    for b in series:
        check_at_ms(b, at_ms, name=name)
    prices = [float(b.close[_bar_at(b, at_ms)]) for b in series]
    if max(prices) > MAX_PRICE_SPREAD * min(prices):
        figures = ", ".join(f"{b.source} ({b.venue}) {p:g}" for b, p in zip(series, prices))
        raise ConfigError(
            f"prices at {_iso(at_ms)} disagree by {max(prices) / min(prices) - 1:.1%} "
            f"(more than {MAX_PRICE_SPREAD - 1:.0%}): {figures}; another symbol or price "
            "unit? aggregate venues of one symbol only")
    return int(at_ms)


def _window(bars: Bars, lookback: str | None, at_ms: int | None) -> Bars:
    if lookback is None and at_ms is None:
        return bars
    if lookback is not None and lookback not in LOOKBACKS_MS:
        raise ConfigError(f"unknown lookback {lookback!r}: use one of {tuple(LOOKBACKS_MS)}")
    if at_ms is not None:
        check_at_ms(bars, at_ms)
    last = int(bars.ts_ms[-1]) if at_ms is None else int(at_ms)
    start = None if lookback is None else last + max(bars.bar_ms, 1) - LOOKBACKS_MS[lookback]
    return bars.window(start, last + 1)  # up to the bar open at or before at_ms, no later


def _check_bars(bars: Bars) -> None:
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


def _weights_on(lev: np.ndarray, preset: LeveragePreset, cap: float) -> np.ndarray:
    """The preset's weights on the channel leverages ``lev``; a preset leverage above the
    venue's maximum ``cap`` counts at the maximum (nobody can open more)."""
    w = np.zeros(lev.size)
    idx = np.searchsorted(lev, np.minimum(preset.leverages, cap))
    np.add.at(w, idx, preset.weights)
    return w


def _parse_half_lives(spec, chan_lev) -> np.ndarray:
    """Half-life (hours) of each channel's leverage; inf = no decay (``liqmap.params``
    parses ``spec``)."""
    lev = np.asarray(chan_lev, float)
    hl = half_lives(spec)
    if hl is None:
        return np.full(lev.size, np.inf)
    if isinstance(hl, float):
        return np.full(lev.size, hl)
    return np.array([hl.get(x, np.inf) for x in lev])


def _auto_bin(price: float) -> float:
    raw = price * 0.0005
    mag = 10 ** np.floor(np.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * mag:
            return float(step * mag)
    return float(10 * mag)  # pragma: no cover


def _grid(model: LiquidationModel, bars: Bars, members) -> tuple[float, float, int]:
    lows, highs = [], []
    for preset in members:
        _, _, _, f_l, f_s = model._channels(preset, _ref_price(bars))
        lows.append(f_l[(f_l > 0) & np.isfinite(f_l)])
        highs.append(f_s[np.isfinite(f_s) & (f_s > 0)])
    f_lo = min(np.min(x) for x in lows if x.size) if any(x.size for x in lows) else 1.0
    f_hi = max(np.max(x) for x in highs if x.size) if any(x.size for x in highs) else 1.0
    bin_usd = model.bin_usd or _auto_bin(float(np.median(bars.close)))
    lo = float(np.min(bars.low)) * min(f_lo, 1.0) * 0.99
    hi = float(np.max(bars.high)) * max(f_hi, 1.0) * 1.01
    p0 = np.floor(lo / bin_usd) * bin_usd
    n_bins = int(np.ceil((hi - p0) / bin_usd)) + 1
    if n_bins > 200_000:
        i, j = int(np.argmin(bars.low)), int(np.argmax(bars.high))
        raise ConfigError(
            f"{n_bins} price bins of {bin_usd:g} USD: the prices of {bars.source} span from "
            f"min low {float(bars.low[i]):.10g} (row {i}, ts_ms {int(bars.ts_ms[i])}) to max "
            f"high {float(bars.high[j]):.10g} (row {j}, ts_ms {int(bars.ts_ms[j])}); if one "
            "of them is off, fix or drop that row (or pass --repair), else pick a larger "
            "--bin-usd")
    return float(p0), float(bin_usd), n_bins


def _frame_idx(n_bars: int, frames: int) -> np.ndarray:
    if n_bars <= frames:
        return np.arange(n_bars, dtype=np.int64)
    return np.unique(np.linspace(0, n_bars - 1, frames).round().astype(np.int64))


def _book_usd(out: bk.BookOutputs, inp_side: np.ndarray, centers: np.ndarray):
    usd = out.book_coin * centers[None, :]
    return usd[inp_side > 0].sum(axis=0), usd[inp_side < 0].sum(axis=0)


def _assemble(model, bars, grid, frame_idx, outs, members, seconds) -> Estimate:
    p0, bin_usd, n_bins = grid
    centers = p0 + (np.arange(n_bins) + 0.5) * bin_usd
    finals = []
    for preset, out in zip(members, outs):
        side = _sides_of(model, preset, bars)
        finals.append(_book_usd(out, side, centers))
    longs = np.array([f[0] for f in finals])
    shorts = np.array([f[1] for f in finals])
    pl = np.array([o.liq_long_usd for o in outs])
    ps = np.array([o.liq_short_usd for o in outs])
    c = outs[0]
    hm = Heatmap(
        ts_ms=bars.ts_ms[frame_idx], price_bins_usd=centers, long_usd=c.frames_long_usd,
        short_usd=c.frames_short_usd, price_ts_ms=bars.ts_ms, price_close_usd=bars.close,
        price_high_usd=bars.high, price_low_usd=bars.low, venue=bars.venue, symbol=bars.symbol)
    band = len(outs) > 1
    fm = LiqMap(
        ts_ms=int(bars.ts_ms[-1]), price_usd=float(bars.close[-1]), price_bins_usd=centers,
        long_usd=longs[0], short_usd=shorts[0],
        long_low_usd=longs.min(axis=0) if band else None,
        long_high_usd=longs.max(axis=0) if band else None,
        short_low_usd=shorts.min(axis=0) if band else None,
        short_high_usd=shorts.max(axis=0) if band else None,
        venue=bars.venue, symbol=bars.symbol)
    return Estimate(
        model=model, bars=bars, heatmap=hm, predicted_long_usd=pl[0], predicted_short_usd=ps[0],
        predicted_long_low_usd=pl.min(axis=0), predicted_long_high_usd=pl.max(axis=0),
        predicted_short_low_usd=ps.min(axis=0), predicted_short_high_usd=ps.max(axis=0),
        final_map=fm, engine_seconds=float(sum(seconds)),
        engine_seconds_central=float(seconds[0]), members=tuple(p.name for p in members))


def _ref_price(bars: Bars) -> float:
    """Entry price used where a venue's factors depend on it (coin-denominated tiers)."""
    return float(np.median(bars.close))


def _sides_of(model: LiquidationModel, preset: LeveragePreset, bars: Bars) -> np.ndarray:
    _, _, _, f_long, f_short = model._channels(preset, _ref_price(bars))
    ok_l = (f_long > 0) & np.isfinite(f_long)
    ok_s = np.isfinite(f_short) & (f_short > 0)
    return np.r_[np.ones(ok_l.sum(), np.int64), -np.ones(ok_s.sum(), np.int64)]

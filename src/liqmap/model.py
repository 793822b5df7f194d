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

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core import book as bk
from liqmap.core.bars import Bars
from liqmap.core.engines import check_engine
from liqmap.core.mapstats import MAX_PRICE_SPREAD
from liqmap.core.records import Heatmap, LiqMap
from liqmap.core.sides import aggressive_long_share, entry_prices
from liqmap.model_setup import ModelSetup, check_bars, model_setup
from liqmap.params import (  # LOOKBACKS_MS: declared there (no numpy), re-exported here
    DEFAULT_WARMUP_MS,
    LOOKBACKS_MS,
    OI_POLICIES,
    check_model,
    parse_run_param,
)
from liqmap.preset_files import read_preset_json
from liqmap.timeutil import MS_PER_HOUR, iso_ms

__all__ = ["LOOKBACKS_MS", "OI_POLICIES", "Estimate", "LiquidationModel", "check_at_ms",
           "common_at_ms"]

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
    convention : str
        ``"liqmap"``: this model. ``"vendor"``: the map as popular tools appear to count it
        (:mod:`liqmap.core.vendor`: openings counted from open-interest rises and never
        removed, one side per candle colour, the ``high-leverage`` preset, no cap, no
        decay, no band); ``leverage``, ``side_model``, ``side_strength``, ``oi_policy``,
        ``half_life_hours`` and the band are then not used. Shown beside liqmap's own so
        users comparing with those tools see why the numbers differ.
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
    convention: str = "liqmap"

    def __post_init__(self) -> None:
        # every field against its spec in liqmap.params (types, ranges, the venue's
        # maximum leverage): the same checks as for flags, environment, TOML and grids
        check_model({f: getattr(self, f) for f in self.__dataclass_fields__})

    @classmethod
    def from_preset(cls, name: str) -> LiquidationModel:
        """The engine parameters of a fitted preset shipped with the package (or a preset
        JSON path), e.g. ``"fitted-binance-btcusdt-2025-12"``; see ``liqmap.scorecard.preset``
        for its combination coefficients and fit span (the files are read by
        :mod:`liqmap.preset_files`, so the estimator does not import the scorecard)."""
        d = read_preset_json(name)
        if not isinstance(d, dict) or not isinstance(d.get("model"), dict):
            raise ConfigError("fitted preset is missing or has a bad field ('model'); "
                              "re-create it with `liqmap calibrate`")
        return cls.from_dict(d["model"])

    @classmethod
    def from_dict(cls, d: dict) -> LiquidationModel:
        """Inverse of :meth:`to_dict` (``band_presets`` may be a list).

        Raises
        ------
        ConfigError
            A key that is not a parameter of this liqmap version, or a bad value.
        """
        kw = dict(d)
        if "band_presets" in kw:
            kw["band_presets"] = tuple(kw["band_presets"])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise ConfigError(f"preset model parameters do not fit this liqmap version: {exc}"
                              ) from None

    def to_dict(self) -> dict:
        """All parameters, JSON-ready."""
        d = asdict(self)
        d["band_presets"] = list(self.band_presets)
        return d

    def setup(self, bars: Bars, *, ref_price_usd: float | None = None,
              grid_pad: float = 0.0) -> ModelSetup:
        """What a run over ``bars`` fixes before the first bar: the band members, their
        position channels and the price grid (``liqmap.model_setup``; ``run`` and the live
        ``IncrementalModel`` both build their books from it).

        ``ref_price_usd`` (default: the median close) prices coin-denominated tiers;
        ``grid_pad`` widens the grid by that fraction of price on each side.
        """
        return model_setup(self, bars, ref_price_usd=ref_price_usd, grid_pad=grid_pad)

    def run(self, bars: Bars, *, lookback: str | int | None = None, at_ms: int | None = None,
            warmup: str | int | None = None, opened_within: str | int | None = None,
            engine: str = "numba", progress=None) -> Estimate:
        """Run the level book over ``bars`` (optionally a lookback window ending at ``at_ms``).

        The window ends with the bar open at or before ``at_ms`` (``check_at_ms``), so the
        final map is the map at that time (``Estimate.map_at`` takes it so).

        ``lookback`` (a name of :data:`LOOKBACKS_MS` or ms) is the span *drawn*: the
        heatmap's frames lie over it only. The engine starts ``warmup`` earlier, so the
        first frame already holds the levels standing then (positions opened before the
        drawn span). ``warmup`` is a duration (``"90d"``, ``"36h"``, ms; ``"0"``: none,
        the book starts empty at the drawn start); default :data:`DEFAULT_WARMUP_MS` (90
        days), cut to the history the bars hold. ``opened_within`` says the same the other
        way, as which positions are counted: only those opened within it before ``at_ms``
        (warm-up = ``opened_within - lookback``; shorter than ``lookback`` is refused);
        give one of the two (both only when they agree). Without ``lookback`` all bars are
        drawn (no warm-up), or the last ``opened_within`` of them. Both are parsed by
        :func:`liqmap.params.parse_run_param`.

        ``engine="reference"`` runs the plain NumPy twin instead of the compiled kernel
        (slow; for checks; ``liqmap.core.engines``). ``progress(done, total, preset_name)``
        is called after each preset run.
        """
        check_engine(engine)
        bars, first = _window(bars, lookback, at_ms, warmup, opened_within)
        check_bars(bars)
        setup = self.setup(bars)
        frame_idx = first + _frame_idx(len(bars) - first, self.frames)
        share = aggressive_long_share(
            self.side_model, open_usd=bars.open, high_usd=bars.high, low_usd=bars.low,
            close_usd=bars.close, volume=bars.volume, taker_buy_volume=bars.taker_buy_volume,
            taker_delta=bars.taker_delta, funding_rate=bars.funding_rate,
            strength=self.side_strength)
        if self.convention == "vendor":
            return self._run_vendor(bars, setup, frame_idx, first, engine)
        px, w = entry_prices(bars.high, bars.low, bars.close, self.entry_points)
        outs, seconds, load = [], [], 0.0
        for i, (preset, ch) in enumerate(zip(setup.members, setup.channels)):
            inp = _inputs(bars, setup, ch, share, px, w,
                          frame_idx if i == 0 else np.zeros(0, np.int64))
            load += _load_kernel(inp, engine)
            t0 = time.perf_counter()
            outs.append(bk.run_book(inp, engine=engine))
            seconds.append(time.perf_counter() - t0)
            if progress is not None:
                progress(i + 1, len(setup.members), preset.name)
        return _assemble(self, bars, setup, frame_idx, outs, seconds, first, load_seconds=load)

    def _run_vendor(self, bars: Bars, setup: ModelSetup, frame_idx, first: int,
                    engine: str) -> Estimate:
        """The ``vendor`` convention on this run's price grid (one member, no band)."""
        from liqmap.core.vendor import VENDOR_STYLE, vendor_book_inputs

        inp = vendor_book_inputs(
            open_usd=bars.open, high_usd=bars.high, low_usd=bars.low, close_usd=bars.close,
            oi_coin=bars.open_interest, p0_usd=setup.p0_usd, bin_usd=setup.bin_usd,
            n_bins=setup.n_bins, frame_idx=frame_idx, venue=self.venue,
            position_notional_usd=self.position_notional_usd,
            entry_points=self.entry_points, table=setup.table)
        load = _load_kernel(inp, engine)
        t0 = time.perf_counter()
        out = bk.run_book(inp, engine=engine)
        return _assemble(self, bars, setup, frame_idx, [out], [time.perf_counter() - t0],
                         first, sides=[inp.chan_side], members=(VENDOR_STYLE,),
                         load_seconds=load)


def _load_kernel(inp: bk.BookInputs, engine: str) -> float:
    """Seconds to make the compiled kernel ready for ``inp`` (numba's cache, or a compile
    on a fresh install): timed apart from the kernel, as ``Estimate.load_seconds``."""
    t0 = time.perf_counter()
    bk.load_book_kernel(inp, engine=engine)
    return time.perf_counter() - t0


@dataclass(frozen=True, slots=True)
class Estimate:
    """Read-only result of ``LiquidationModel.run``.

    Attributes
    ----------
    model : LiquidationModel
        The parameters used.
    bars : Bars
        The bars the book was run over: the warm-up bars, then the drawn bars
        (``drawn_bars``, from index ``warmup_bars`` on).
    heatmap : Heatmap
        Book snapshots of the central preset, over the drawn bars only (its price arrays
        are the drawn bars'); the first frame holds the levels the warm-up left standing.
    predicted_long_usd, predicted_short_usd : (T,) float64
        Predicted liquidations per bar of ``bars`` (central preset): every bar run, the
        warm-up included (``predicted_long_usd[warmup_bars:]`` for the drawn span).
    predicted_long_low_usd, predicted_long_high_usd, predicted_short_low_usd,
    predicted_short_high_usd : (T,) float64
        Band over the presets (equal to the central series when there is no band).
    final_map : LiqMap
        The map after the last bar, with band arrays.
    engine_seconds : float
        Kernel time of all preset runs; ``engine_seconds_central`` of the central one. The
        kernel alone: loading it from numba's cache (or compiling it) is ``load_seconds``.
    warmup_bars : int
        Bars run before the drawn span (0: the book started empty at the first drawn bar).
    load_seconds : float
        Time taken to make the compiled kernel ready (numba's on-disk cache, or a compile
        the first time after an install or an edit), apart from ``engine_seconds``.
    tier_table : str
        The margin tiers used: the bars' symbol's table on the venue (for bars read from a
        store, the newest table fetched into it on or before the last bar's day when it is
        newer than the shipped one: ``fetched <day> (store)``), or the venue's BTC table
        with a note when there is none for the symbol
        (:func:`liqmap.model_setup.symbol_tier_table`).
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
    warmup_bars: int = 0
    load_seconds: float = 0.0
    tier_table: str = ""

    @property
    def drawn_bars(self) -> Bars:
        """The bars of the drawn span (``bars`` without the ``warmup_bars`` before it)."""
        return self.bars if self.warmup_bars == 0 else self.bars.take(
            slice(self.warmup_bars, None))

    def map_at(self, ts_ms: int, *, frames: bool = False) -> LiqMap:
        """The map as it stood after the bar that opened at or before ``ts_ms``.

        The one route to the map at a time: the CLI's ``map --at`` and the API's ``at_ms``
        run ``LiquidationModel.run(bars, at_ms=)``, which this calls; ``liqmap.watch``
        reads frames through it.

        ``frames=False``: the final map of a run over this estimate's bars up to that bar
        (``model.run(bars, at_ms=ts_ms)``: its own price grid, with the band); from the
        last bar on, ``final_map``. ``ts_ms`` must lie from the second bar to one bar after
        the last bar (``check_at_ms``); outside, ``ConfigError`` names the span instead of
        clamping.

        ``frames=True``: the heatmap frame this run kept after that bar, without a re-run:
        the central preset only, on this run's grid (set by all its bars, so the bins differ
        from a shorter run's). ``ConfigError`` when no frame was kept there
        (``LiquidationModel.frames`` keeps at most one per bar).
        """
        if frames:
            return self._frame_at(ts_ms)
        check_at_ms(self.bars, ts_ms, name="ts_ms")
        if ts_ms >= int(self.bars.ts_ms[-1]):
            return self.final_map
        return self.model.run(self.bars, at_ms=ts_ms).final_map

    def _frame_at(self, ts_ms: int) -> LiqMap:
        b, hm = self.bars, self.heatmap
        i = int(np.searchsorted(b.ts_ms, ts_ms, side="right")) - 1
        if i < 0 or ts_ms > int(b.ts_ms[-1]) + max(b.bar_ms, 1):
            raise ConfigError(f"ts_ms {ts_ms} is outside the data: {_span(b)}")
        k = int(np.searchsorted(hm.ts_ms, b.ts_ms[i]))
        if k == hm.ts_ms.size or int(hm.ts_ms[k]) != int(b.ts_ms[i]):
            raise ConfigError(
                f"this run kept no frame after the bar at {iso_ms(int(b.ts_ms[i]))} "
                f"({hm.ts_ms.size} frames over the {len(b) - self.warmup_bars} drawn bars, "
                f"after {self.warmup_bars} warm-up bars): run with frames >= "
                f"{len(b) - self.warmup_bars} to keep one per drawn bar, or leave "
                "frames=False to re-run up to it")
        return LiqMap(ts_ms=int(hm.ts_ms[k]), price_usd=float(b.close[i]),
                      price_bins_usd=hm.price_bins_usd, long_usd=hm.long_usd[k],
                      short_usd=hm.short_usd[k], venue=hm.venue, symbol=hm.symbol)

    def summary(self) -> dict:
        """JSON-ready summary: window, parameters, totals, the final map's analytics.

        ``bars``, ``start_ms`` and the predicted totals are the drawn span's;
        ``warmup_bars`` were run before it from ``run_start_ms``; ``first_frame_total_usd``
        is the book (longs + shorts) at the first drawn frame.
        """
        from liqmap.core import mapstats

        b, k, hm = self.bars, self.warmup_bars, self.heatmap
        return {
            "venue": self.model.venue, "symbol": b.symbol, "source": b.source,
            "bars": len(b) - k, "bar_ms": b.bar_ms,
            "start_ms": int(b.ts_ms[k]), "end_ms": int(b.ts_ms[-1]),
            "warmup_bars": k, "run_start_ms": int(b.ts_ms[0]), "tiers": self.tier_table,
            "first_frame_total_usd": float(hm.long_usd[0].sum() + hm.short_usd[0].sum()),
            "params": self.model.to_dict(), "band_members": list(self.members),
            "engine_seconds": self.engine_seconds,
            "engine_seconds_central": self.engine_seconds_central,
            "load_seconds": self.load_seconds,
            "predicted_long_usd": float(self.predicted_long_usd[k:].sum()),
            "predicted_short_usd": float(self.predicted_short_usd[k:].sum()),
            "predicted_long_usd_band": [float(self.predicted_long_low_usd[k:].sum()),
                                        float(self.predicted_long_high_usd[k:].sum())],
            "predicted_short_usd_band": [float(self.predicted_short_low_usd[k:].sum()),
                                         float(self.predicted_short_high_usd[k:].sum())],
            "map": mapstats.summary(self.final_map),
        }

    def plot(self, out_dir, *, stem: str = "liqmap") -> dict:
        """Write the heatmap (PNG, HTML) and the map chart (PNG, HTML) into ``out_dir``."""
        from liqmap.plots.render import render_estimate

        return render_estimate(self, out_dir, stem=stem)


# ---------------------------------------------------------------------- helpers


def _span(bars: Bars) -> str:
    first, last = int(bars.ts_ms[0]), int(bars.ts_ms[-1])
    return (f"{bars.source} ({bars.venue}) spans {iso_ms(first)} .. {iso_ms(last)} "
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
        return  # ``check_bars`` (liqmap.model_setup) says what is wrong
    step = max(bars.bar_ms, 1)
    first, lo, hi = int(bars.ts_ms[0]), int(bars.ts_ms[1]), int(bars.ts_ms[-1]) + step
    at = int(at_ms)
    if lo <= at <= hi:
        return
    where = ("after the last bar" if at > hi
             else "before the second bar (a map needs 2 bars)")
    raise ConfigError(
        f"{name} {at} ({iso_ms(at)}) is outside the data: {where}; {_span(bars)}, so a map "
        f"can be taken from {iso_ms(lo)} to {iso_ms(hi)}; {_unit_hint(at, first, hi)}")


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
        last = "none" if i < 0 else iso_ms(int(bars.ts_ms[i]))
        raise ConfigError(f"{bars.source} has no bar within one bar before {iso_ms(at_ms)} "
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
            f"prices at {iso_ms(at_ms)} disagree by {max(prices) / min(prices) - 1:.1%} "
            f"(more than {MAX_PRICE_SPREAD - 1:.0%}): {figures}; another symbol or price "
            "unit? aggregate venues of one symbol only")
    return int(at_ms)


def _lookback_ms(lookback: str | int | None) -> int | None:
    """A lookback's span in ms: a name of ``LOOKBACKS_MS``, or ms (the service's own)."""
    if lookback is None or (isinstance(lookback, str) and lookback in LOOKBACKS_MS):
        return None if lookback is None else LOOKBACKS_MS[lookback]
    if isinstance(lookback, int) and not isinstance(lookback, bool) and lookback > 0:
        return int(lookback)
    raise ConfigError(f"unknown lookback {lookback!r}: use one of {tuple(LOOKBACKS_MS)}")


def _warmup_ms(span_ms: int, warmup, opened_within) -> int:
    """The warm-up before a drawn span of ``span_ms``: ``warmup``, else ``opened_within``
    minus the span, else ``DEFAULT_WARMUP_MS``."""
    w = parse_run_param("warmup", warmup)
    ow = parse_run_param("opened_within", opened_within)
    if ow is None:
        return DEFAULT_WARMUP_MS if w is None else w
    if ow < span_ms:
        raise ConfigError(
            f"opened_within {opened_within!r} ({ow / MS_PER_HOUR:g}h) is shorter than the "
            f"lookback drawn ({span_ms / MS_PER_HOUR:g}h): positions opened inside the drawn "
            "span would be left out; give at least the lookback, or a shorter lookback")
    if w is not None and w != ow - span_ms:
        raise ConfigError(f"warmup {warmup!r} and opened_within {opened_within!r} disagree "
                          "(opened_within = lookback + warmup): give one of them")
    return ow - span_ms


def _window(bars: Bars, lookback, at_ms: int | None, warmup=None,
            opened_within=None) -> tuple[Bars, int]:
    """The bars to run (warm-up, then the drawn span) and the index of the first drawn one."""
    span_ms = _lookback_ms(lookback)
    if at_ms is not None:
        check_at_ms(bars, at_ms)
    if span_ms is None:
        if opened_within is None:  # all bars drawn: nothing before them to warm up on
            parse_run_param("warmup", warmup)
            return (bars if at_ms is None else bars.window(None, int(at_ms) + 1)), 0
        span_ms, warmup = parse_run_param("opened_within", opened_within), None
    warm = _warmup_ms(span_ms, warmup, opened_within)
    last = int(bars.ts_ms[-1]) if at_ms is None else int(at_ms)
    start = last + max(bars.bar_ms, 1) - span_ms
    run = bars.window(start - warm, last + 1)  # up to the bar open at or before at_ms
    first = int(np.searchsorted(run.ts_ms, start, side="left"))
    if first >= len(run):
        raise ConfigError(f"no bar in the {span_ms / MS_PER_HOUR:g}h drawn before "
                          f"{iso_ms(last)} (a gap in the data): pick another time")
    return run, first


def _frame_idx(n_bars: int, frames: int) -> np.ndarray:
    if n_bars <= frames:
        return np.arange(n_bars, dtype=np.int64)
    return np.unique(np.linspace(0, n_bars - 1, frames).round().astype(np.int64))


def _inputs(bars: Bars, setup: ModelSetup, ch, share, px, w, frame_idx) -> bk.BookInputs:
    """The kernel's inputs for one band member (its channels ``ch`` of ``setup``)."""
    d_oi = np.diff(bars.open_interest, prepend=bars.open_interest[0]).clip(min=0.0)
    dt = np.diff(bars.ts_ms, prepend=bars.ts_ms[0]).astype(float)
    return bk.BookInputs(
        low_usd=bars.low, high_usd=bars.high, dt_ms=dt, oi_coin=bars.open_interest,
        entry_px_usd=px, entry_w=w, open_coin=d_oi, aggr_long_share=share,
        chan_w_aggr=ch.w_aggr, chan_w_pass=ch.w_pass, chan_side=ch.side,
        chan_factor=ch.factor, chan_rate_per_ms=ch.rate_per_ms, chan_rank=ch.rank,
        p0_usd=setup.p0_usd, bin_usd=setup.bin_usd, n_bins=setup.n_bins,
        frame_idx=frame_idx, policy=ch.policy)


def _book_usd(out: bk.BookOutputs, inp_side: np.ndarray, centers: np.ndarray):
    usd = out.book_coin * centers[None, :]
    return usd[inp_side > 0].sum(axis=0), usd[inp_side < 0].sum(axis=0)


def _reduce(ufunc, series: list[np.ndarray]) -> np.ndarray:
    """Element-wise ``ufunc`` (``np.minimum``/``np.maximum``) over equal-length series, into
    one new array: the band of the per-bar predictions."""
    out = series[0].copy()
    for s in series[1:]:
        ufunc(out, s, out=out)
    return out


def _assemble(model, bars, setup: ModelSetup, frame_idx, outs, seconds,
              first: int = 0, *, sides=None, members=None,
              load_seconds: float = 0.0) -> Estimate:
    centers = setup.centers_usd
    sides = [ch.side for ch in setup.channels] if sides is None else sides
    finals = [_book_usd(out, sd, centers) for sd, out in zip(sides, outs)]
    longs = np.array([f[0] for f in finals])
    shorts = np.array([f[1] for f in finals])
    pl = [o.liq_long_usd for o in outs]  # no (members x T) copies: a year of 1-minute bars
    ps = [o.liq_short_usd for o in outs]  # held 2 x 17 MB more at the peak (issue #16)
    c, drawn = outs[0], slice(first, None)  # frames and price line: the drawn span only
    hm = Heatmap(
        ts_ms=bars.ts_ms[frame_idx], price_bins_usd=centers, long_usd=c.frames_long_usd,
        short_usd=c.frames_short_usd, price_ts_ms=bars.ts_ms[drawn],
        price_close_usd=bars.close[drawn], price_high_usd=bars.high[drawn],
        price_low_usd=bars.low[drawn], venue=bars.venue, symbol=bars.symbol)
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
        predicted_long_low_usd=_reduce(np.minimum, pl), predicted_long_high_usd=_reduce(np.maximum, pl),
        predicted_short_low_usd=_reduce(np.minimum, ps), predicted_short_high_usd=_reduce(np.maximum, ps),
        final_map=fm, engine_seconds=float(sum(seconds)),
        engine_seconds_central=float(seconds[0]),
        members=setup.member_names if members is None else tuple(members),
        warmup_bars=int(first), load_seconds=float(load_seconds),
        tier_table=setup.tier_table)

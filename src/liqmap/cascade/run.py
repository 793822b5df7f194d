"""The cascade on market data: one answer for the CLI, the API and the replay.

The simulator (``liqmap.cascade.simulator``) takes an impact model; the shipped one is fitted on
Hyperliquid (window C). To use it on another market, :func:`simulator_for` replaces the
preset's daily volume by the traded volume of the bars the map was built from and scales
the depth (and the Hyperliquid L2 book of ``impact="book"``) by the same ratio
(``liqmap.cascade.impact_fit.preset_models``: resting depth is assumed proportional to
volume).
Bars without volume keep the preset.

- :func:`daily_volume_usd`: mean daily traded USD of the bars (summed over venues);
- :func:`simulator_for`: the simulator set up for those bars;
- :func:`cascade_for`: ``simulator_for(bars, ...).run(maps, shock_pct)``, the cascade the
  ``liqmap cascade`` command and the ``/api/v1/cascade`` endpoint both give;
- :func:`replay_window`: the map before a real move (Coinglass hourly regime file) replayed
  against the realized liquidations (``liqmap cascade-replay``).

>>> import numpy as np
>>> from liqmap.core.records import LiqMap
>>> bins = np.arange(90_000.0, 110_001.0, 100.0)
>>> m = LiqMap(0, 100_000.0, bins, np.where(bins < 1e5, 1e6, 0.0), np.where(bins > 1e5, 1e6, 0.0))
>>> res = cascade_for(m, None, 1.0)  # no bars: the shipped preset as it is
>>> res.move_pct >= 1.0
True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.cascade.impact_fit import load_impact_preset
from liqmap.cascade.simulator import (
    CascadeResult,
    CascadeSimulator,
    default_impact,
    replay,
)
from liqmap.core.bars import Bars
from liqmap.core.impact import BookImpact, ImpactModel, Resilience
from liqmap.io.coinglass import coinglass_files, read_realized, read_regime_bars
from liqmap.io.sample import load_sample
from liqmap.model import Estimate, LiquidationModel
from liqmap.timeutil import MS_PER_DAY, MS_PER_HOUR
from liqmap.venues.hyperliquid.files import hl_files, read_l2

__all__ = ["cascade_for", "daily_volume_usd", "replay_window", "simulator_for"]

#: Day of the Hyperliquid L2 file whose first snapshot ``impact="book"`` walks by default.
BOOK_DAY = "20260621"
#: Coinglass file the replay reads its hourly bars and realized liquidations from.
REGIME_FILES = "coinglass_BTC_regime_1h_*.csv.gz"


def _bars_list(bars) -> list[Bars]:
    if isinstance(bars, Bars):
        return [bars]
    if isinstance(bars, Mapping):
        return list(bars.values())
    return list(bars)


def daily_volume_usd(bars) -> float | None:
    """Mean traded USD per day of ``bars`` (``sum(volume * close)`` over their span).

    Parameters
    ----------
    bars : Bars, dict of str to Bars, or list of Bars
        Several venues' bars are summed (one impact model moves one price for all venues).

    Returns
    -------
    float or None
        None when any venue's bars have no volume or fewer than 2 bars.

    Examples
    --------
    >>> from liqmap.io.sample import load_sample
    >>> round(daily_volume_usd(load_sample()) / 1e9, 1)
    12.4
    """
    parts = _bars_list(bars)
    if not parts:
        return None
    total = 0.0
    for b in parts:
        if b.volume is None or len(b) < 2:
            return None
        total += float(np.sum(b.volume * b.close) / (len(b) * b.bar_ms / MS_PER_DAY))
    return total


def _book_impact(book_file, beyond_beta: float | None, volume_usd: float | None) -> BookImpact:
    """First snapshot of a Hyperliquid L2 file, sizes scaled by ``volume_usd / V_HL``."""
    path = book_file or next((p for p in hl_files("l2") if BOOK_DAY in p.name), None)
    if path is None:
        raise ConfigError("no Hyperliquid L2 file found; pass book_file= (CLI: --book-file "
                          "PATH, an l2 jsonl.gz)")
    books = read_l2(path, max_rows=1)
    preset = load_impact_preset()
    beta = preset["depth"]["beta"] if beyond_beta is None else beyond_beta
    book = BookImpact.from_snapshot(*books.snapshot(0), beyond_beta=beta, ts_ms=int(books.ts_ms[0]))
    if volume_usd is None:
        return book
    return book.scaled(volume_usd / preset["sqrt"]["volume_daily_usd"])


def _impact(impact, volume_usd, withdrawal, book_file, beyond_beta) -> ImpactModel:
    if not isinstance(impact, str):
        return impact  # a model built by the caller is used as it is
    if impact == "book":
        return _book_impact(book_file, beyond_beta, volume_usd)
    if impact in ("sqrt", "depth"):
        return default_impact(impact, volume_daily_usd=volume_usd, withdrawal=withdrawal)
    raise ConfigError(f"unknown impact model {impact!r}; use sqrt, depth or book")


def simulator_for(bars, *, impact: ImpactModel | str = "sqrt",
                  volume_daily_usd: float | None = None, withdrawal: float = 0.0,
                  half_life_s: float | None = None, book_file=None,
                  beyond_beta: float | None = None, venue_rules="auto",
                  step_seconds: float = 5.0) -> CascadeSimulator:
    """The cascade simulator for maps built from ``bars``.

    Parameters
    ----------
    bars : Bars, dict of str to Bars, list of Bars, or None
        The bars the map(s) were built from; their daily volume scales the shipped impact
        (None, or bars without volume: the preset as it is).
    impact : {"sqrt", "depth", "book"} or an impact model
        ``"book"`` walks the first snapshot of a Hyperliquid L2 file (``book_file``, default
        the one of :data:`BOOK_DAY`); a model is used as given, unscaled.
    volume_daily_usd : float, optional
        Daily USD volume instead of the bars'.
    withdrawal : float
        Market-maker withdrawal factor of the depth model (0 = static book).
    half_life_s : float, optional
        Book resilience (impact half-life); None = permanent impact.
    book_file, beyond_beta
        L2 file and depth exponent past its visible book (``impact="book"``).
    venue_rules, step_seconds
        As in :class:`~liqmap.cascade.CascadeSimulator`.

    Returns
    -------
    CascadeSimulator
    """
    vol = volume_daily_usd
    if vol is None and bars is not None:
        vol = daily_volume_usd(bars)
    model = _impact(impact, vol, withdrawal, book_file, beyond_beta)
    res = None if half_life_s is None else Resilience(half_life_s)
    return CascadeSimulator(model, venue_rules, step_seconds=step_seconds, resilience=res)


def cascade_for(maps, bars, shock_pct: float, **options) -> CascadeResult:
    """The cascade ``shock_pct`` sets off on ``maps``, impact set up for ``bars``.

    Parameters
    ----------
    maps : Estimate, LiqMap, dict of str to LiqMap, or list of LiqMap
        An ``Estimate`` stands for its ``final_map`` (and its own bars when ``bars`` is None).
    bars : Bars, dict of str to Bars, list of Bars, or None
        The bars the maps were built from (see :func:`simulator_for`).
    shock_pct : float
        Instant exogenous move, percent.
    **options
        Keywords of :func:`simulator_for`.

    Returns
    -------
    CascadeResult
    """
    if isinstance(maps, Estimate):
        bars = maps.bars if bars is None else bars
        maps = maps.final_map
    return simulator_for(bars, **options).run(maps, shock_pct)


def replay_window(start_ms: int, hours: int = 10, *, impact: str = "sqrt",
                  venue_rules="auto", volume_daily_usd: float | None = None,
                  bars=None, realized=None) -> dict:
    """Replay ``hours`` of a real move from the map at the bar before ``start_ms``.

    Bars and realized liquidations are ``bars`` (:class:`~liqmap.core.bars.Bars`) and
    ``realized`` (per-bar totals with ``ts_ms``, ``long_usd``, ``short_usd`` and
    ``between(start_ms, end_ms)``, e.g. :class:`liqmap.io.coinglass.RealizedSeries`) when
    given, else the Coinglass hourly regime file (:data:`REGIME_FILES`, window A's); the
    map is ``LiquidationModel(venue=bars.venue)`` on the bars before ``start_ms``; the
    impact volume defaults to the bundled Dec-2025 sample's. Returns
    :func:`liqmap.cascade.replay`'s dict with the map time, the window, the source, the
    impact name and the volume used.
    """
    if hours < 1:
        raise ConfigError(f"hours must be >= 1, got {hours}")
    if (bars is None) != (realized is None):
        raise ConfigError("give both bars and realized liquidations, or neither (window A)")
    if bars is None:
        f = coinglass_files(REGIME_FILES)
        if not f:
            raise ConfigError(f"no hourly Coinglass regime file ({REGIME_FILES}) in the "
                              "shared data folder")
        bars, realized, source = read_regime_bars(f[0]), read_realized(f[0]), f[0].name
    else:
        source = bars.source
    if not (bars.ts_ms[0] < start_ms <= bars.ts_ms[-1]):
        raise ConfigError("--start must fall inside the bars, after their first bar")
    t1 = start_ms + hours * MS_PER_HOUR
    est = LiquidationModel(venue=bars.venue).run(bars.window(None, start_ms))
    after = bars.window(start_ms, t1)
    vol = volume_daily_usd if volume_daily_usd is not None else daily_volume_usd(load_sample())
    sim = simulator_for(None, impact=impact, volume_daily_usd=vol, venue_rules=venue_rules)
    rl, rs = realized.between(start_ms, t1)
    out = replay(sim, est.final_map, open_usd=after.open, high_usd=after.high,
                 low_usd=after.low, close_usd=after.close, realized_long_usd=rl,
                 realized_short_usd=rs)
    out.update(map_ts_ms=int(est.final_map.ts_ms), start_ms=start_ms, end_ms=t1,
               source=source, impact=impact, volume_daily_usd=vol)
    return out

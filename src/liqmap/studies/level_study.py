"""The level study: do map clusters make price react, and do they draw price?

Runs the reaction and magnet tests of :mod:`liqmap.studies.reaction` on the clusters of the
model's map over a window, and writes ``studies.json`` and a chart of the effects with their
95 % intervals (PNG and HTML).

How the levels are read (no look-ahead): the model runs once over the bars; its map is read
every ``map_every`` bars (heatmap frames, :mod:`liqmap.watch.frames`). At each decision bar
``s`` (every ``horizon`` bars) the levels are the clusters (``mapstats.clusters``, top
``top`` per side within ``magnet_max_pct`` %) of the latest map read at or before the close
of ``s``; both tests then look only at the bars after ``s``. The first
``warmup_bars`` bars only fill the book. Nothing is fitted, so the study may run on the whole
window; the parameters (:class:`ReactionParams` defaults, ``map_every=4``, ``top=5``,
``warmup_bars=168``) were fixed before any result was seen.

:func:`wall_study` (with :func:`largest_cluster` and :func:`densest_wall`) asks the
level test's question of issue 13: when price reaches the largest cluster or the densest
zone within the horizon, is the realized burst there larger than at the same distance at
other times (:mod:`liqmap.scorecard.levels_claims` runs it on the standing maps).

>>> res = level_study(load_window("A").bars)        # doctest: +SKIP
>>> [s["name"] for s in res.to_dict()["studies"]]   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liqmap.core import mapstats
from liqmap.core.bars import Bars
from liqmap.core.mapstats import jsonable
from liqmap.model import LiquidationModel
from liqmap.outputs import atomic_write_text, ensure_out_dir
from liqmap.studies.reaction import (
    Effect,
    ReactionParams,
    control_touches,
    first_hits,
    magnet_hits,
    paired_effect,
    reaction_metrics,
    touch_events,
)

__all__ = ["LevelStudy", "densest_wall", "largest_cluster", "level_study", "magnet_study",
           "reaction_study", "wall_study"]

_UNITS = {"speed": "x (ratio)", "range": "x (ratio)", "rejection": "share",
          "speed_after": "bp per bar",
          "magnet_mirror": "share", "magnet_same_side": "share",
          **{f"{k}_hit_rate": "share" for k in ("cluster", "zone")},
          **{f"{k}_burst_log": "log1p USD" for k in ("cluster", "zone")}}


def reaction_study(high, low, close, decisions, level_sets, weight_sets,
                   p: ReactionParams = ReactionParams(), first: int = 0) -> dict:
    """First touches of the level sets vs the same distances from random bars (module doc).

    ``level_sets[i]`` / ``weight_sets[i]``: levels (USD) and sizes known at the close of
    ``decisions[i]``. Returns ``effects`` (speed, range, rejection, speed_after) and
    per-event ``events``.
    """
    rng = np.random.default_rng(p.seed)
    sets = {int(s): (np.asarray(lv, float), np.asarray(w, float))
            for s, lv, w in zip(decisions, level_sets, weight_sets)}
    ss, ts, lv = touch_events(high, low, close, decisions, level_sets, weight_sets, p)
    ev, ctl = np.full((len(ts), 4), np.nan), np.full((len(ts), 4), np.nan)
    n_ctl = np.zeros(len(ts), np.int64)
    for i, (s, t, level) in enumerate(zip(ss, ts, lv)):
        ev[i] = reaction_metrics(high, low, close, t, level, p)
        levels, weights = sets[int(s)]
        ctrl = control_touches(high, low, close, int(s), levels / close[s] - 1.0, weights, p,
                               rng, first)
        n_ctl[i] = len(ctrl)
        if ctrl:
            ctl[i] = np.nanmean([reaction_metrics(high, low, close, c, L, p) for c, L in ctrl],
                                axis=0)
    effects = [paired_effect(n, ev[:, j], ctl[:, j], p)
               for j, n in enumerate(("speed", "range", "rejection", "speed_after"))]
    return {"effects": effects, "events": {"s": ss.tolist(), "t": ts.tolist(),
                                           "level_usd": lv.tolist(), "n_controls": n_ctl.tolist()}}


def magnet_study(high, low, close, decisions, levels, p: ReactionParams = ReactionParams()
                 ) -> dict:
    """Hit rate of the chosen levels vs the mirror level and vs the same distance elsewhere."""
    dec = np.asarray(decisions, np.int64)
    lv = np.asarray(levels, float)
    keep = np.isfinite(lv) & (dec + p.horizon < len(close))
    dec, lv = dec[keep], lv[keep]
    d = lv / close[dec] - 1.0
    hit = magnet_hits(high, low, close, dec, lv, p.horizon)
    mirror = magnet_hits(high, low, close, dec, close[dec] * (1 - d), p.horizon)
    rng = np.random.default_rng(p.seed + 1)
    other = np.full(len(dec), np.nan)
    for i in range(len(dec)):
        pool = np.delete(dec, i)
        if pool.size:
            pick = rng.choice(pool, size=min(p.n_controls, pool.size), replace=False)
            other[i] = magnet_hits(high, low, close, pick, close[pick] * (1 + d[i]),
                                   p.horizon).mean()
    return {"effects": [paired_effect("magnet_mirror", hit, mirror, p),
                        paired_effect("magnet_same_side", hit, other, p)],
            "decisions": {"t": dec.tolist(), "level_usd": lv.tolist(), "hit": hit.tolist()}}


def _burst(real_long, real_short, t_hit, below) -> np.ndarray:
    """``log1p`` realized USD of the level's side in bar ``t_hit`` (NaN where not hit)."""
    t = np.clip(t_hit, 0, None)
    usd = np.where(below, np.asarray(real_long, float)[t], np.asarray(real_short, float)[t])
    return np.where(t_hit >= 0, np.log1p(usd), np.nan)


def _wall_controls(high, low, close, real: tuple[Any, Any], dec, d, p: ReactionParams):
    """Mean hit and mean ``log1p`` burst (of hits) of the same signed distances placed at
    ``n_controls`` other decision bars; ``real``: realized long and short USD per bar."""
    rng = np.random.default_rng(p.seed + 2)
    hit_c, burst_c = np.full(len(dec), np.nan), np.full(len(dec), np.nan)
    for i in range(len(dec)):
        pool = np.delete(dec, i)
        if not pool.size:
            continue
        pick = rng.choice(pool, size=min(p.n_controls, pool.size), replace=False)
        hit, t_hit = first_hits(high, low, close, pick, close[pick] * (1 + d[i]), p.horizon)
        hit_c[i] = hit.mean()
        b = _burst(*real, t_hit, np.full(pick.size, d[i] < 0))
        burst_c[i] = np.nanmean(b) if np.isfinite(b).any() else np.nan
    return hit_c, burst_c


def wall_study(high, low, close, realized_long_usd, realized_short_usd, decisions, levels,
               notional_usd, p: ReactionParams = ReactionParams(), name: str = "cluster"
               ) -> dict:
    """When price reaches a map level within ``p.horizon`` bars, is the burst the map shows?

    At each decision bar the level (USD) and the map's notional there are given. ``hit``:
    the level is reached (:func:`~liqmap.studies.reaction.first_hits`); ``burst``: the
    realized liquidations of the level's side (longs below the price, shorts above) in the
    bar that reaches it, ``log1p`` USD. Controls: the same signed distance at
    ``n_controls`` other decision bars (as ``magnet_same_side``). Effects (paired, block
    bootstrap): ``<name>_hit_rate`` and ``<name>_burst_log`` (``exp(effect)`` is the
    geometric ratio of bursts); ``size_ratio`` describes realized burst / map notional
    over the hits.
    """
    dec = np.asarray(decisions, np.int64)
    lv, w = np.asarray(levels, float), np.asarray(notional_usd, float)
    keep = np.isfinite(lv) & (dec + p.horizon < len(close))
    dec, lv, w = dec[keep], lv[keep], w[keep]
    c = np.asarray(close, float)
    d = lv / c[dec] - 1.0
    hit, t_hit = first_hits(high, low, c, dec, lv, p.horizon)
    real = (realized_long_usd, realized_short_usd)
    burst = _burst(*real, t_hit, d < 0)
    hit_c, burst_c = _wall_controls(high, low, c, real, dec, d, p)
    ratio = np.expm1(burst[hit > 0]) / w[hit > 0]
    q = np.quantile(ratio, [0.25, 0.5, 0.75]).tolist() if ratio.size else [np.nan] * 3
    return {"effects": [paired_effect(f"{name}_hit_rate", hit, hit_c, p),
                        paired_effect(f"{name}_burst_log", burst, burst_c, p)],
            "size_ratio": {"q25": q[0], "median": q[1], "q75": q[2], "n_hits": int(ratio.size),
                           "what": "realized burst (hit bar, all venues) / map notional"},
            "decisions": {"t": dec.tolist(), "level_usd": lv.tolist(), "hit": hit.tolist()}}


def largest_cluster(m, p: ReactionParams = ReactionParams(), top: int = 5
                    ) -> tuple[float, float]:
    """``(level_usd, notional_usd)`` of the map's largest cluster at ``magnet_min_pct`` to
    ``magnet_max_pct`` % from the price (NaN, 0 when none)."""
    lv, w = _frame_levels(m, top, p.magnet_max_pct)
    d = np.abs(lv / m.price_usd - 1.0) * 100
    ok = (d >= p.magnet_min_pct) & (d <= p.magnet_max_pct)
    if not ok.any():
        return np.nan, 0.0
    k = int(np.argmax(np.where(ok, w, -np.inf)))
    return float(lv[k]), float(w[k])


def densest_wall(m, p: ReactionParams = ReactionParams(), width_pct: float = 2.0
                 ) -> tuple[float, float]:
    """``(near_edge_usd, notional_usd)`` of the densest ``width_pct`` %-wide zone lying
    ``magnet_min_pct`` to ``magnet_max_pct`` % from the price, the heavier side of the two
    (NaN, 0 when empty): reaching the zone means reaching its near edge."""
    from dataclasses import replace

    near = np.abs(np.asarray(m.price_bins_usd) / m.price_usd - 1.0) * 100 < p.magnet_min_pct
    cut = replace(m, long_usd=np.where(near, 0.0, m.long_usd),
                  short_usd=np.where(near, 0.0, m.short_usd))
    zones = [mapstats.densest_zone(cut, sd, width_pct=width_pct,
                                   max_distance_pct=p.magnet_max_pct) for sd in ("long", "short")]
    z = max(zones, key=lambda z: z.notional_usd)
    if not z.notional_usd > 0:
        return np.nan, 0.0
    return float(z.to_usd if z.side == "long" else z.from_usd), float(z.notional_usd)


@dataclass(frozen=True, slots=True)
class LevelStudy:
    """Result of :func:`level_study` (read-only)."""

    effects: tuple[Effect, ...]
    params: dict
    window: dict
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"studies": [{name, effect, ci_low, ci_high, n, statement, ...}], ...details}``."""
        p = ReactionParams(**{k: v for k, v in self.params.items() if k != "model"})
        studies = [{"name": e.name, "effect": e.effect, "ci_low": e.ci_low,
                    "ci_high": e.ci_high, "n": e.n, "statement": statement(e, p),
                    "mean_event": e.mean_event, "mean_control": e.mean_control,
                    "unit": _UNITS.get(e.name, "")} for e in self.effects]
        return jsonable({"studies": studies, "params": self.params, "window": self.window,
                          **self.details})

    def write(self, out_dir) -> dict[str, str]:
        """Write ``studies.json``, ``studies.png`` and ``studies.html`` into ``out_dir``."""
        from liqmap.plots.level_study_chart import plot_effects_html, plot_effects_png

        out = ensure_out_dir(out_dir)
        d = self.to_dict()
        js = atomic_write_text(out / "studies.json", json.dumps(d, indent=1, allow_nan=False))
        png = plot_effects_png(d, out / "studies.png")
        html = plot_effects_html(d, out / "studies.html")
        return {"json": str(js), "png": str(png), "html": str(html)}


def level_study(bars: Bars, model: LiquidationModel | None = None,
                p: ReactionParams = ReactionParams(), *, map_every: int = 4, top: int = 5,
                warmup_bars: int = 168) -> LevelStudy:
    """Run the reaction and magnet tests on the clusters of ``model``'s map over ``bars``."""
    from liqmap.watch.frames import FrameMaps

    model = model or LiquidationModel()
    fm = FrameMaps.build(model, bars, map_every)
    frames = [_frame_levels(fm.map(i), top, p.magnet_max_pct) for i in range(len(fm))]
    h, lo, c = bars.high, bars.low, bars.close
    dec = np.arange(max(warmup_bars, p.k + 1), len(bars) - p.horizon - p.k - 1, p.horizon)
    idx = [_latest(fm, int(t)) for t in dec]
    ok = np.array([i >= 0 for i in idx], bool)
    dec, sets = dec[ok], [frames[i] for i, k in zip(idx, ok) if k]
    react = reaction_study(h, lo, c, dec, [x[0] for x in sets], [x[1] for x in sets], p,
                           first=warmup_bars)
    big = [_largest(x, c[t], p) for x, t in zip(sets, dec)]
    mag = magnet_study(h, lo, c, dec, big, p)
    window = {"venue": bars.venue, "symbol": bars.symbol, "source": bars.source,
              "bars": len(bars), "bar_ms": bars.bar_ms, "start_ms": int(bars.ts_ms[0]),
              "end_ms": int(bars.ts_ms[-1]), "warmup_bars": warmup_bars,
              "map_every_bars": map_every, "clusters_top_per_side": top}
    return LevelStudy(tuple(react["effects"] + mag["effects"]),
                      {**p.to_dict(), "model": model.to_dict()}, window,
                      {"reaction_events": react["events"], "magnet_decisions": mag["decisions"]})


def _latest(fm, t: int) -> int:
    return int(np.searchsorted(fm.bar_idx, t, side="right")) - 1


def _frame_levels(m, top: int, max_pct: float) -> tuple[np.ndarray, np.ndarray]:
    ks = [k for sd in ("long", "short")
          for k in mapstats.clusters(m, sd, top=top, max_distance_pct=max_pct)]
    return (np.array([k.price_usd for k in ks], float),
            np.array([k.notional_usd for k in ks], float))


def _largest(levels: tuple[np.ndarray, np.ndarray], close: float, p: ReactionParams) -> float:
    lv, w = levels
    d = np.abs(lv / close - 1.0) * 100
    ok = (d >= p.magnet_min_pct) & (d <= p.magnet_max_pct)
    return float(lv[ok][np.argmax(w[ok])]) if ok.any() else np.nan


_WORDS = {
    "speed": ("speed after the touch / speed before (mean |return|, {k} bars)", "ratio"),
    "range": ("range after the touch / range before ({k} bars)", "ratio"),
    "rejection": ("rejection rate (turns back >= {r}% before crossing)", "rate"),
    "speed_after": ("mean |return| over the {k} bars after the touch, bp", "bp"),
    "magnet_mirror": ("hit rate within {h} bars: largest cluster vs the mirror level", "rate"),
    "magnet_same_side": ("hit rate within {h} bars: largest cluster vs the same distance at "
                         "other times", "rate"),
    **{f"{k}_hit_rate": (f"hit rate within {{h}} bars: {what} vs the same distance at other "
                         "times", "rate") for k, what in (("cluster", "largest cluster"),
                                                          ("zone", "densest zone"))},
    **{f"{k}_burst_log": (f"realized liquidations (log1p USD) in the bar that reaches the "
                          f"{what} vs the same distance at other times", "value")
       for k, what in (("cluster", "largest cluster"), ("zone", "densest zone"))},
}


def statement(e: Effect, p: ReactionParams = ReactionParams()) -> str:
    """The effect in one sentence, whatever it shows."""
    what, kind = _WORDS.get(e.name, (e.name, "value"))
    what = what.format(k=p.k, r=p.reject_pct, h=p.horizon)
    if e.n == 0 or not math.isfinite(e.ci_low):
        return f"{what}: too few events (n={e.n}) to say anything."
    fmt = {"rate": lambda x: f"{x:.1%}", "bp": lambda x: f"{x:.1f} bp"}.get(
        kind, lambda x: f"{x:.3f}")
    verdict = ("higher than" if e.ci_low > 0 else "lower than" if e.ci_high < 0
               else "not distinguishable from")
    who = "zones" if e.name.startswith("zone_") else "clusters"
    return (f"{what}: {who} {fmt(e.mean_event)} vs controls {fmt(e.mean_control)}, "
            f"difference {e.effect:+.3f} (95% CI {e.ci_low:+.3f} to {e.ci_high:+.3f}, n={e.n}):"
            f" {verdict} the controls.")



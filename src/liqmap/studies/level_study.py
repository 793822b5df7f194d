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

>>> res = level_study(load_window("A").bars)        # doctest: +SKIP
>>> [s["name"] for s in res.to_dict()["studies"]]   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from liqmap.bars import Bars
from liqmap.core import mapstats
from liqmap.core.mapstats import jsonable
from liqmap.model import LiquidationModel
from liqmap.studies.reaction import (
    Effect,
    ReactionParams,
    control_touches,
    magnet_hits,
    paired_effect,
    reaction_metrics,
    touch_events,
)

__all__ = ["LevelStudy", "level_study", "magnet_study", "reaction_study"]

_UNITS = {"speed": "x (ratio)", "range": "x (ratio)", "rejection": "share",
          "speed_after": "bp per bar",
          "magnet_mirror": "share", "magnet_same_side": "share"}


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
        from liqmap.studies.plot import plot_effects_html, plot_effects_png

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        d = self.to_dict()
        js = out / "studies.json"
        js.write_text(json.dumps(d, indent=1, allow_nan=False))
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
    return (f"{what}: clusters {fmt(e.mean_event)} vs controls {fmt(e.mean_control)}, "
            f"difference {e.effect:+.3f} (95% CI {e.ci_low:+.3f} to {e.ci_high:+.3f}, n={e.n}):"
            f" {verdict} the controls.")



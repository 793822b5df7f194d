"""Level reaction and magnet tests on arrays: price bars plus candidate levels over time.

Everything here takes plain arrays (bar ``high``, ``low``, ``close``; for each bar the
levels known *before* it) so the same code scores map clusters and synthetic planted levels.
:mod:`liqmap.studies.level_study` feeds it the clusters of the model's map.

Definitions (parameters in :class:`ReactionParams`, fixed before looking at any result)
----------------------------------------------------------------------------------------
**Touch.** At each decision bar ``s`` (every ``horizon`` bars) the levels known at the close
of ``s`` (map clusters) that lie farther than ``touch_pct`` % from ``close[s]`` are followed
for ``horizon`` bars; the first bar ``t`` whose range comes within ``touch_pct`` % of one of
them (from its side) is the event (the largest level when several are reached in that bar).
At most one event per decision.

**Acceleration.** ``speed_ratio`` = mean ``|log return|`` of the ``k`` bars after the touch
bar over that of the ``k`` bars before it; ``range_ratio`` = (max high - min low) of the
``k`` bars after over that of the ``k`` bars before. The touch bar itself is in neither.

``speed_after_bp`` is the post-touch mean ``|log return|`` alone (basis points): levels that
survive near the price tend to follow calm spells, which lifts both ratios by itself, so the
absolute post-touch speed is reported next to them.

**Rejection.** Within the touch bar and the ``k`` bars after, price turns back
``reject_pct`` % beyond the level on the side it came from before it crosses ``touch_pct`` %
through the level. A bar that does both counts as not rejected (order unknown in a bar).

**Controls.** For each event, ``n_controls`` other decision bars ``s'`` are drawn at random
(farther than ``horizon`` from ``s``); the *same set* of signed distances is placed around
``close[s']`` and followed the same way; the control value is the mean over those touched.
So events and controls go through the same selection (a level set at given distances,
first touch within the horizon) and differ only in where the levels came from.

**Magnet.** At decision bars (every ``horizon`` bars) the largest level at
``magnet_min_pct`` to ``magnet_max_pct`` % from ``close`` is *hit* when the next
``horizon`` bars reach it. Controls: the mirror level (same distance, other side, same time),
and the same signed distance at ``n_controls`` random other decision bars.

**Effects** are paired differences (event - its control), averaged; their 95 % intervals
come from a moving-block bootstrap over events in time order (``block`` events per block,
``n_boot`` draws, fixed ``seed``; no interval with fewer than two blocks of events).

For the level test (:mod:`liqmap.scorecard.levels`): :func:`first_hits` (the bar that first
reaches a level) and :func:`bootstrap_spearman` (Spearman correlations of several series
on the same block-bootstrap draws, so their differences are paired).

>>> p = ReactionParams()
>>> (p.touch_pct, p.k, p.reject_pct)
(0.2, 6, 1.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from liqmap._exceptions import ConfigError

__all__ = ["Effect", "ReactionParams", "block_bootstrap_ci", "block_indices",
           "bootstrap_spearman", "control_touches", "first_hits", "first_touch", "magnet_hits",
           "paired_effect", "reaction_metrics", "touch_events"]


@dataclass(frozen=True, slots=True)
class ReactionParams:
    """The study's parameters, chosen a priori (see the module docstring)."""

    touch_pct: float = 0.2
    k: int = 6
    reject_pct: float = 1.0
    n_controls: int = 20
    horizon: int = 24
    magnet_min_pct: float = 1.0
    magnet_max_pct: float = 5.0
    n_boot: int = 2000
    block: int = 5
    seed: int = 12345

    def __post_init__(self) -> None:
        if not (0 < self.touch_pct < self.reject_pct):
            raise ConfigError("need 0 < touch_pct < reject_pct")
        if min(self.k, self.n_controls, self.horizon, self.n_boot, self.block) < 1:
            raise ConfigError("k, n_controls, horizon, n_boot and block must be >= 1")
        if not 0 < self.magnet_min_pct < self.magnet_max_pct:
            raise ConfigError("need 0 < magnet_min_pct < magnet_max_pct")

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Effect:
    """A paired effect with its bootstrap interval."""

    name: str
    effect: float
    ci_low: float
    ci_high: float
    n: int
    mean_event: float
    mean_control: float


def _reached(high, low, above: np.ndarray, level: np.ndarray, touch: float) -> np.ndarray:
    """Bool per level: the bar's range comes within ``touch`` of it (from its side)."""
    return np.where(above, high >= level * (1 - touch), low <= level * (1 + touch))


def first_touch(high, low, close, s: int, levels, weights, p: ReactionParams
                ) -> tuple[int, float]:
    """First bar in ``s+1 .. s+horizon`` touching one of ``levels`` (known at close ``s``).

    Levels closer than ``touch_pct`` % to ``close[s]`` are ignored; among levels first
    touched in the same bar the one with the largest weight counts. Returns
    ``(t, level_usd)``, or ``(-1, nan)`` when none is touched.
    """
    lv, w = np.asarray(levels, float), np.asarray(weights, float)
    touch = p.touch_pct / 100
    keep = np.abs(lv / close[s] - 1.0) > touch
    lv, w = lv[keep], w[keep]
    if lv.size == 0:
        return -1, np.nan
    above = lv > close[s]
    for t in range(s + 1, min(s + p.horizon, len(close) - p.k - 1) + 1):
        hit = _reached(high[t], low[t], above, lv, touch)
        if hit.any():
            return t, float(lv[int(np.argmax(np.where(hit, w, -np.inf)))])
    return -1, np.nan


def touch_events(high, low, close, decisions, level_sets, weight_sets, p: ReactionParams
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(s, t, level_usd)`` of the first touch after each decision bar that has one."""
    out = []
    for s, lv, w in zip(decisions, level_sets, weight_sets):
        if s < p.k + 1:
            continue
        t, level = first_touch(high, low, close, int(s), lv, w, p)
        if t >= 0:
            out.append((int(s), t, level))
    arr = np.array(out, float).reshape(-1, 3)
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]


def reaction_metrics(high, low, close, t: int, level: float, p: ReactionParams):
    """``(speed_ratio, range_ratio, rejected, speed_after_bp)`` of a touch at bar ``t``.

    ``speed_after_bp`` is the mean ``|log return|`` of the ``k`` bars after the touch bar in
    basis points: unlike the ratios it does not depend on how calm the bars before were.
    """
    k = p.k
    lr = np.abs(np.diff(np.log(close[t - k - 1: t + k + 1])))
    pre, post = lr[:k], lr[k + 1:]
    rng_pre = high[t - k: t].max() - low[t - k: t].min()
    rng_post = high[t + 1: t + k + 1].max() - low[t + 1: t + k + 1].min()
    speed = post.mean() / pre.mean() if pre.mean() > 0 else np.nan
    rng = rng_post / rng_pre if rng_pre > 0 else np.nan
    rejected = float(_rejected(high, low, t, level, close[t - 1] > level, p))
    return speed, rng, rejected, float(post.mean() * 1e4)


def _rejected(high, low, t, level, from_above: bool, p: ReactionParams) -> bool:
    through, back = p.touch_pct / 100, p.reject_pct / 100
    for j in range(t, t + p.k + 1):
        if from_above:
            crossed, turned = low[j] <= level * (1 - through), high[j] >= level * (1 + back)
        else:
            crossed, turned = high[j] >= level * (1 + through), low[j] <= level * (1 - back)
        if crossed:
            return False
        if turned and j > t:
            return True
    return False


def control_touches(high, low, close, s: int, distances, weights, p: ReactionParams,
                    rng: np.random.Generator, first: int = 0) -> list[tuple[int, float]]:
    """Touches of levels at the same signed ``distances`` (fractions) from random bars.

    Up to ``n_controls`` decision bars ``s'`` are drawn among bars farther than ``horizon``
    from ``s``; the level set ``close[s'] (1 + distances)`` is followed exactly as the real
    one (:func:`first_touch`). Returns the ``(t, level_usd)`` of those touched.
    """
    lo, hi = max(first, p.k + 1), len(close) - p.horizon - p.k - 1
    cand = np.arange(lo, max(hi, lo))
    cand = cand[np.abs(cand - s) > p.horizon]
    if cand.size == 0:
        return []
    picks = rng.choice(cand, size=min(p.n_controls, cand.size), replace=False)
    d = np.asarray(distances, float)
    out = []
    for s2 in np.sort(picks):
        t, level = first_touch(high, low, close, int(s2), close[s2] * (1 + d), weights, p)
        if t >= 0:
            out.append((t, level))
    return out


def magnet_hits(high, low, close, decisions, levels, horizon: int) -> np.ndarray:
    """1.0 when the ``horizon`` bars after each decision bar reach its level, else 0.0."""
    out = np.zeros(len(decisions))
    for i, (t, lv) in enumerate(zip(decisions, levels)):
        seg = slice(t + 1, t + 1 + horizon)
        out[i] = float(low[seg].min() <= lv) if lv < close[t] else float(high[seg].max() >= lv)
    return out


def block_indices(n: int, n_boot: int, block: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` row indices of a moving-block bootstrap: ``ceil(n / block)`` blocks
    of ``block`` consecutive rows (``min(block, n)``), starts drawn uniformly, cut to ``n``."""
    b = min(block, n)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - b + 1, size=(n_boot, -(-n // b)))
    return (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_boot, -1)[:, :n]


def block_bootstrap_ci(diff: np.ndarray, n_boot: int, block: int, seed: int,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of ``diff`` by a moving-block bootstrap (time order).

    NaN with fewer than two blocks' worth of values (``n < 2 * block``): one block
    resamples the series as it is, which would give a zero-width interval.
    """
    d = np.asarray(diff, float)
    d = d[np.isfinite(d)]
    n = d.size
    if n < 2 or n < 2 * block:
        return np.nan, np.nan
    means = d[block_indices(n, n_boot, block, seed)].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def paired_effect(name: str, event: np.ndarray, control: np.ndarray,
                  p: ReactionParams) -> Effect:
    """Mean of ``event - control`` (rows with both finite) with its bootstrap interval."""
    event, control = np.asarray(event, float), np.asarray(control, float)
    ok = np.isfinite(event) & np.isfinite(control)
    diff = event[ok] - control[ok]
    lo, hi = block_bootstrap_ci(diff, p.n_boot, p.block, p.seed)
    return Effect(name, float(diff.mean()) if diff.size else np.nan, lo, hi, int(diff.size),
                  float(event[ok].mean()) if diff.size else np.nan,
                  float(control[ok].mean()) if diff.size else np.nan)


def _resample_ranks(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Average ranks of ``x`` within each resample given by row ``counts`` ``(B, n)``: a
    row drawn ``c`` times is ``c`` tied values, so ranks follow from counts per distinct
    value (no sort per draw)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    new = np.r_[True, xs[1:] != xs[:-1]]
    grouped = np.add.reduceat(counts[:, order], np.flatnonzero(new), axis=1)
    ranks = np.cumsum(grouped, axis=1) - grouped + (grouped + 1.0) / 2.0
    inv = np.empty(x.size, np.int64)
    inv[order] = np.cumsum(new) - 1
    return ranks[:, inv]


def _weighted_corr(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    tot = w.sum(axis=1, keepdims=True)
    a = a - (w * a).sum(axis=1, keepdims=True) / tot
    b = b - (w * b).sum(axis=1, keepdims=True) / tot
    den = np.sqrt((w * a * a).sum(axis=1) * (w * b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12 * tot[:, 0] ** 2, (w * a * b).sum(axis=1) / den, np.nan)


def bootstrap_spearman(xs, y, n_boot: int, block: int, seed: int) -> np.ndarray:
    """Spearman correlation of each series of ``xs`` with ``y`` on the same moving-block
    bootstrap draws (rows in time order, ties at average ranks): ``(n_boot, len(xs))``
    (NaN with fewer than ``2 * block`` rows, as :func:`block_bootstrap_ci`).

    Drawing the rows once for all series makes their differences paired. Each draw's
    ranks come from how often it drew each row (:func:`_resample_ranks`): exactly
    ``scipy.stats.spearmanr`` of the drawn rows, without a sort per draw.

    >>> y = np.arange(50.0); r = bootstrap_spearman([y, -y], y, 20, 5, 0)
    >>> r.shape, bool(np.allclose(r[:, 0], 1.0)), bool(np.allclose(r[:, 1], -1.0))
    ((20, 2), True, True)
    """
    yv = np.asarray(y, float)
    n = yv.size
    if n < 3 or n < 2 * block:
        return np.full((n_boot, len(xs)), np.nan)
    idx = block_indices(n, n_boot, block, seed)
    flat = (np.arange(n_boot)[:, None] * n + idx).ravel()
    counts = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
    ry = _resample_ranks(yv, counts)
    return np.column_stack([_weighted_corr(_resample_ranks(np.asarray(x, float), counts), ry,
                                           counts) for x in xs])


def first_hits(high, low, close, decisions, levels, horizon: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """First bar after each decision bar reaching its level within ``horizon`` bars.

    A level below ``close[s]`` is reached by a bar whose low is at or below it, one above
    by a bar whose high is at or above it (as :func:`magnet_hits`). Returns ``(hit, t)``:
    1.0/0.0 and the bar index (-1 when not reached; NaN levels are never reached).

    >>> h = np.array([10.0, 10.5, 12.0]); lo = h - 1; c = h - 0.5
    >>> first_hits(h, lo, c, [0, 0], [11.5, 8.0], 2)
    (array([1., 0.]), array([ 2, -1]))
    """
    hi_, lo_, c = (np.asarray(a, float) for a in (high, low, close))
    hit = np.zeros(len(decisions))
    t_hit = np.full(len(decisions), -1, np.int64)
    for i, (s, lv) in enumerate(zip(decisions, levels)):
        seg = slice(int(s) + 1, int(s) + 1 + horizon)
        if not np.isfinite(lv):
            continue
        reach = lo_[seg] <= lv if lv < c[s] else hi_[seg] >= lv
        if reach.any():
            hit[i], t_hit[i] = 1.0, int(s) + 1 + int(np.argmax(reach))
    return hit, t_hit

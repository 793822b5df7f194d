"""The cascade step kernel: crossed levels -> forced orders -> impact -> new price, repeated.

Input is a :class:`LevelBook` (the per-venue liquidation maps flattened onto one reference
price), per-venue :class:`VenueRules`, an impact model (``liqmap.core.impact``) and an
exogenous shock path. Time advances explicitly by ``step_s`` seconds per step ``k``:

1. price: ``p_k = p0 * exp(e_k + x(q_k))``: ``e_k`` the exogenous log shock at step ``k``
   (the last value holds after the path ends), ``x`` the impact of the effective flow;
2. crossing: short levels at or below ``p_k`` and long levels at or above it are liquidated,
   each level exactly once (two pointers that only advance);
3. orders, by the venue's rules: if the price is already past the level by more than
   ``vault_overshoot_frac`` (Hyperliquid: equity below 2/3 of maintenance) the whole level
   is taken over by the vault (no market order); otherwise the ``large_share`` part is sold
   in slices of ``slice_frac`` every ``cooldown_s`` (Hyperliquid positions > $100k) and the
   rest is one immediate market order (Binance: one IOC per position; other venues: market);
   a pending slice found past the vault threshold is taken over by the vault;
4. flow: ``q_{k+1} = q_k * decay + buys_k - sells_k`` (``decay`` < 1 with book resilience).

The run stops at the first step after the path with no crossing, no order and nothing
queued (the flow was absorbed), or at ``max_steps`` (``truncated``). Conservation: every
liquidated dollar leaves as market flow or vault takeover, once.

``cascade_nb`` (numba, O(levels crossed + queued) per step) and ``cascade_reference`` (plain
NumPy, masks over every level each step) implement the same semantics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core._typing import (
    AnyArray,
    BoolArray1D,
    Float64Array1D,
    Float64Array2D,
    Int64Array1D,
)
from liqmap.core.engines import check_engine
from liqmap.core.impact import ImpactModel, encode_impact, impact_frac, impact_x_nb
from liqmap.core.records import LiqMap

__all__ = [
    "BINANCE_RULES",
    "HYPERLIQUID_RULES",
    "MARKET_RULES",
    "VENUE_RULES",
    "CascadePath",
    "LevelBook",
    "VenueRules",
    "build_level_book",
    "cascade_nb",
    "cascade_reference",
    "rules_for",
    "simulate",
]


@dataclass(frozen=True, slots=True)
class VenueRules:
    """How one venue turns a liquidated level into market orders.

    Attributes
    ----------
    name : str
    large_share : float
        Share of a level's notional held in positions liquidated in slices (0 = none).
    slice_frac : float
        Fraction of a large position sold per slice (Hyperliquid: 0.2).
    cooldown_s : float
        Seconds between slices (Hyperliquid: 30).
    vault_overshoot_frac : float
        Price move past the level (fraction) at which the vault takes the remainder over;
        ``inf`` = never. Hyperliquid: MMR/3 (equity < 2/3 maintenance), MMR = 1.25 % for BTC.
    """

    name: str
    large_share: float = 0.0
    slice_frac: float = 1.0
    cooldown_s: float = 0.0
    vault_overshoot_frac: float = math.inf

    def __post_init__(self) -> None:
        if not (0.0 <= self.large_share <= 1.0) or not (0.0 < self.slice_frac <= 1.0):
            raise ConfigError(f"{self.name}: large_share must be in [0, 1] and slice_frac in "
                              "(0, 1]")
        if not (self.cooldown_s >= 0.0) or not (self.vault_overshoot_frac > 0.0):
            raise ConfigError(f"{self.name}: cooldown_s must be >= 0 and vault_overshoot_frac > 0")

    @property
    def n_slices(self) -> int:
        """Number of slices a large position is sold in."""
        return int(math.ceil(1.0 / self.slice_frac - 1e-9))


#: Binance USD-M: one IOC market order per liquidated position, sent at once.
BINANCE_RULES = VenueRules("binance")
#: Simple market order at once (Bybit, OKX, aggregate books, unknown-size venues).
MARKET_RULES = VenueRules("market")
#: Hyperliquid: positions > $100k sold 20 % at a time with a 30 s cooldown; below 2/3 of
#: maintenance margin (a further MMR/3 = 0.417 % past the level at MMR 1.25 %) the
#: liquidator vault takes the position over. ``large_share`` = 0.75 is an assumption (the
#: share of a level's notional in positions over $100k), not a fitted value.
HYPERLIQUID_RULES = VenueRules("hyperliquid", large_share=0.75, slice_frac=0.2, cooldown_s=30.0,
                               vault_overshoot_frac=0.0125 / 3.0)
VENUE_RULES = {"binance": BINANCE_RULES, "hyperliquid": HYPERLIQUID_RULES,
               "bybit": MARKET_RULES, "okx": MARKET_RULES, "aggregate": MARKET_RULES,
               "market": MARKET_RULES}


def rules_for(venue: str) -> VenueRules:
    """The rules preset of a venue name (``binance``, ``hyperliquid``, ``bybit``, ``okx``, ...).

    Raises
    ------
    ConfigError
        For an unknown venue name.
    """
    key = str(venue).lower()
    if key not in VENUE_RULES:
        raise ConfigError(f"unknown venue {venue!r}; use one of {sorted(VENUE_RULES)}")
    return VENUE_RULES[key]


@dataclass(frozen=True, slots=True)
class LevelBook:
    """Liquidation levels of several venues on one reference price, ready for the kernel.

    ``up_*``: short levels above ``price_usd``, ascending; ``dn_*``: long levels below it,
    descending. ``*_venue`` indexes ``venues``.
    """

    price_usd: float
    up_px_usd: np.ndarray
    up_usd: np.ndarray
    up_venue: np.ndarray
    dn_px_usd: np.ndarray
    dn_usd: np.ndarray
    dn_venue: np.ndarray
    venues: tuple[str, ...]


def build_level_book(maps: dict[str, LiqMap]) -> LevelBook:
    """Flatten per-venue maps onto one reference price (their mean ``price_usd``).

    Each venue's bins are rescaled by ``p0 / map.price_usd`` so its levels keep their
    distance from its own price. Short levels at or below ``p0`` and long levels at or above
    it (already crossed) and empty bins are dropped.
    """
    if not maps:
        raise ConfigError("no liquidation map given; pass at least one LiqMap")
    for v, m in maps.items():
        if not (math.isfinite(m.price_usd) and m.price_usd > 0):
            raise ConfigError(f"map of {v!r} has price_usd {m.price_usd!r}; it must be > 0")
        if np.any(m.long_usd < 0) or np.any(m.short_usd < 0):
            raise ConfigError(f"map of {v!r} has negative notional; levels must be >= 0")
    p0 = float(np.mean([m.price_usd for m in maps.values()]))
    ups, dns = [], []
    for i, m in enumerate(maps.values()):
        px = np.asarray(m.price_bins_usd, dtype=np.float64) * (p0 / m.price_usd)
        s, lo = np.nan_to_num(m.short_usd), np.nan_to_num(m.long_usd)
        ku, kd = (px > p0) & (s > 0), (px < p0) & (lo > 0)
        ups.append((px[ku], s[ku], np.full(ku.sum(), i)))
        dns.append((px[kd], lo[kd], np.full(kd.sum(), i)))
    up = [np.concatenate(c) for c in zip(*ups)]
    dn = [np.concatenate(c) for c in zip(*dns)]
    ou, od = np.argsort(up[0], kind="stable"), np.argsort(-dn[0], kind="stable")
    return LevelBook(p0, up[0][ou], up[1][ou], up[2][ou].astype(np.int64), dn[0][od],
                     dn[1][od], dn[2][od].astype(np.int64), tuple(maps))


@dataclass(frozen=True, slots=True)
class CascadePath:
    """Raw step-by-step output of one cascade (``S`` steps, ``V`` venues)."""

    t_s: np.ndarray  # (S,) seconds since the shock
    price_usd: np.ndarray  # (S,) mark price at the step
    liq_long_usd: np.ndarray  # (S, V)
    liq_short_usd: np.ndarray  # (S, V)
    buy_usd: np.ndarray  # (S,) forced market buys sent at the step
    sell_usd: np.ndarray  # (S,) forced market sells
    vault_usd: np.ndarray  # (S,) notional taken over by a vault
    up_step: np.ndarray  # (Nu,) step each short level was liquidated at, -1 = never
    dn_step: np.ndarray  # (Nd,)
    truncated: bool


_RuleArrays = tuple[Float64Array1D, Float64Array1D, Int64Array1D, Float64Array1D,
                    Float64Array1D]
"""Per venue of a book: large share, slice fraction, slice count, cool-down s, vault overshoot."""
_CascadeArrays = tuple[Float64Array1D, Float64Array1D, Float64Array2D, Float64Array2D,
                       Float64Array1D, Float64Array1D, Float64Array1D, Int64Array1D,
                       Int64Array1D, bool]
"""The fields of :class:`CascadePath` in order."""


def _rule_arrays(book: LevelBook, rules: dict[str, VenueRules]) -> _RuleArrays:
    rs = [rules[v] for v in book.venues]
    return (np.array([r.large_share for r in rs]), np.array([r.slice_frac for r in rs]),
            np.array([r.n_slices for r in rs], dtype=np.int64),
            np.array([r.cooldown_s for r in rs]), np.array([r.vault_overshoot_frac for r in rs]))


@nb.njit(cache=True)
def _cross_nb(px: Float64Array1D, usd: Float64Array1D, ven: Int64Array1D, i: int, p: float,
              side: int, k: int, t: float, steps: Int64Array1D, liq: Float64Array2D,
              r_share: Float64Array1D, r_frac: Float64Array1D, r_n: Int64Array1D,
              r_vault: Float64Array1D, a_px: Float64Array1D, a_rem: Float64Array1D,
              a_sl: Float64Array1D, a_left: Int64Array1D, a_next: Float64Array1D,
              a_side: Int64Array1D, a_v: Int64Array1D,
              na: int) -> tuple[int, int, float, float, int]:  # pragma: no cover
    """Liquidate levels from pointer ``i`` while crossed; returns (i, na, flow, vault, hits)."""
    flow = 0.0
    vault = 0.0
    hits = 0
    while i < px.size and (px[i] <= p if side > 0 else px[i] >= p):
        n, v = usd[i], ven[i]
        liq[k, v] += n
        steps[i] = k
        hits += 1
        if side * (p / px[i] - 1.0) > r_vault[v]:
            vault += n
        else:
            big = n * r_share[v]
            flow += n - big
            if big > 0.0:
                a_px[na], a_rem[na], a_sl[na], a_left[na] = px[i], big, big * r_frac[v], r_n[v]
                a_next[na], a_side[na], a_v[na] = t, side, v
                na += 1
        i += 1
    return i, na, flow, vault, hits


@nb.njit(cache=True)
def cascade_nb(p0: float, path_x: Float64Array1D, step_s: float, max_steps: int,
               up_px: Float64Array1D, up_usd: Float64Array1D, up_v: Int64Array1D,
               dn_px: Float64Array1D, dn_usd: Float64Array1D, dn_v: Int64Array1D,
               r_share: Float64Array1D, r_frac: Float64Array1D, r_n: Int64Array1D,
               r_cool: Float64Array1D, r_vault: Float64Array1D, kind: int, prm: Float64Array1D,
               ax: Float64Array1D, ac: Float64Array1D, bx: Float64Array1D, bc: Float64Array1D,
               decay: float) -> _CascadeArrays:  # pragma: no cover - compiled
    """Compiled cascade; arguments as in :func:`simulate` after encoding. See module doc."""
    nv = r_share.size
    t_s, price = np.zeros(max_steps), np.zeros(max_steps)
    liq_l, liq_s = np.zeros((max_steps, nv)), np.zeros((max_steps, nv))
    buy, sell, vault = np.zeros(max_steps), np.zeros(max_steps), np.zeros(max_steps)
    up_step, dn_step = np.full(up_px.size, -1), np.full(dn_px.size, -1)
    cap = up_px.size + dn_px.size + 1
    a_px, a_rem, a_sl, a_next = np.empty(cap), np.empty(cap), np.empty(cap), np.empty(cap)
    a_left, a_side, a_v = (np.empty(cap, np.int64), np.empty(cap, np.int64),
                           np.empty(cap, np.int64))
    na, iu, idn, q, k, done = 0, 0, 0, 0.0, 0, False
    while k < max_steps:
        t = k * step_s
        p = p0 * np.exp(path_x[min(k, path_x.size - 1)] + impact_x_nb(kind, prm, ax, ac, bx, bc, q))
        iu, na, b, vu, hu = _cross_nb(up_px, up_usd, up_v, iu, p, 1, k, t, up_step, liq_s,
                                      r_share, r_frac, r_n, r_vault, a_px, a_rem, a_sl,
                                      a_left, a_next, a_side, a_v, na)
        idn, na, s, vd, hd = _cross_nb(dn_px, dn_usd, dn_v, idn, p, -1, k, t, dn_step, liq_l,
                                       r_share, r_frac, r_n, r_vault, a_px, a_rem, a_sl,
                                       a_left, a_next, a_side, a_v, na)
        vlt = vu + vd
        j = 0
        while j < na:
            if a_next[j] <= t + 1e-9:
                if a_side[j] * (p / a_px[j] - 1.0) > r_vault[a_v[j]]:
                    vlt += a_rem[j]
                    a_left[j] = 0
                else:
                    amt = a_rem[j] if a_left[j] == 1 else a_sl[j]
                    a_rem[j] -= amt
                    a_left[j] -= 1
                    a_next[j] += r_cool[a_v[j]]
                    if a_side[j] > 0:
                        b += amt
                    else:
                        s += amt
                if a_left[j] == 0:
                    na -= 1
                    a_px[j], a_rem[j], a_sl[j], a_left[j] = a_px[na], a_rem[na], a_sl[na], a_left[na]
                    a_next[j], a_side[j], a_v[j] = a_next[na], a_side[na], a_v[na]
                    continue
            j += 1
        t_s[k], price[k], buy[k], sell[k], vault[k] = t, p, b, s, vlt
        q = q * decay + (b - s)
        k += 1
        if k >= path_x.size and hu + hd == 0 and b == 0.0 and s == 0.0 and na == 0:
            done = True
            break
    return t_s[:k], price[:k], liq_l[:k], liq_s[:k], buy[:k], sell[:k], vault[:k], up_step, \
        dn_step, not done


def _cross_ref(px: Float64Array1D, usd: Float64Array1D, ven: Int64Array1D, done: BoolArray1D,
               p: float, side: int, nv: int, r_share: Float64Array1D,
               r_vault: Float64Array1D) -> tuple[BoolArray1D, AnyArray, float, float, AnyArray]:
    hit = ~done & ((px <= p) if side > 0 else (px >= p))
    done |= hit
    v = ven[hit]
    liq = np.bincount(v, weights=usd[hit], minlength=nv)
    to_vault = side * (p / px - 1.0) > r_vault[ven]
    vault = float(usd[hit & to_vault].sum())
    keep = hit & ~to_vault
    big = np.where(keep, usd * r_share[ven], 0.0)
    flow = float((usd[keep] - big[keep]).sum())
    return hit, liq, flow, vault, big


def _slices_ref(st: dict[str, AnyArray], px: Float64Array1D, ven: Int64Array1D, p: float, t: float,
                side: int, r_cool: Float64Array1D, r_vault: Float64Array1D) -> tuple[float, float]:
    """Release due slices of one side; returns (flow, vault)."""
    due = (st["left"] > 0) & (st["next"] <= t + 1e-9)
    to_vault = due & (side * (p / px - 1.0) > r_vault[ven])
    vault = float(st["rem"][to_vault].sum())
    st["rem"][to_vault], st["left"][to_vault] = 0.0, 0
    sell = due & ~to_vault
    amt = np.where(st["left"] == 1, st["rem"], st["slice"])[sell]
    st["rem"][sell] -= amt
    st["left"][sell] -= 1
    st["next"][sell] += r_cool[ven[sell]]
    return float(amt.sum()), vault


def cascade_reference(book: LevelBook, path_x: Float64Array1D, step_s: float, max_steps: int,
                      rules: dict[str, VenueRules], model: ImpactModel,
                      decay: float) -> _CascadeArrays:
    """Plain NumPy twin of :func:`cascade_nb` (whole-book masks each step)."""
    r_share, r_frac, r_n, r_cool, r_vault = _rule_arrays(book, rules)
    nv = len(book.venues)
    sides = []
    for px, usd, ven in ((book.up_px_usd, book.up_usd, book.up_venue),
                         (book.dn_px_usd, book.dn_usd, book.dn_venue)):
        st = {"done": np.zeros(px.size, bool), "step": np.full(px.size, -1),
              "rem": np.zeros(px.size), "slice": np.zeros(px.size),
              "left": np.zeros(px.size, np.int64), "next": np.full(px.size, np.inf)}
        sides.append((px, usd, ven, st))
    rows, q, done = [], 0.0, False
    for k in range(max_steps):
        t = k * step_s
        p = book.price_usd * math.exp(path_x[min(k, len(path_x) - 1)] + impact_frac(model, q)[0])
        row: dict[str, Any] = {"t": t, "p": p, "flow": [0.0, 0.0], "vault": 0.0, "liq": [],
                               "hits": 0}
        for j, (side, (px, usd, ven, st)) in enumerate(zip((1, -1), sides)):
            hit, liq, flow, vault, big = _cross_ref(px, usd, ven, st["done"], p, side, nv,
                                                    r_share, r_vault)
            st["step"][hit] = k
            new = big > 0
            st["rem"][new], st["slice"][new] = big[new], big[new] * r_frac[ven[new]]
            st["left"][new], st["next"][new] = r_n[ven[new]], t
            f2, v2 = _slices_ref(st, px, ven, p, t, side, r_cool, r_vault)
            row["flow"][j] = flow + f2
            row["vault"] += vault + v2
            row["liq"].append(liq)
            row["hits"] += int(hit.sum())
        rows.append(row)
        q = q * decay + row["flow"][0] - row["flow"][1]
        pending = any((st["left"] > 0).any() for *_, st in sides)
        if k + 1 >= len(path_x) and row["hits"] == 0 and row["flow"] == [0.0, 0.0] and not pending:
            done = True
            break

    def col(f: Callable[[dict[str, Any]], float]) -> Float64Array1D:
        return np.array([f(r) for r in rows], dtype=np.float64)

    return (col(lambda r: r["t"]), col(lambda r: r["p"]),
            np.array([r["liq"][1] for r in rows]).reshape(len(rows), nv),
            np.array([r["liq"][0] for r in rows]).reshape(len(rows), nv),
            col(lambda r: r["flow"][0]), col(lambda r: r["flow"][1]), col(lambda r: r["vault"]),
            sides[0][3]["step"], sides[1][3]["step"], not done)


def simulate(book: LevelBook, path_x: np.ndarray, *, rules: dict[str, VenueRules],
             model: ImpactModel, decay: float = 1.0, step_s: float = 5.0,
             max_steps: int = 720, engine: str = "numba") -> CascadePath:
    """Run one cascade on ``book`` for the exogenous log-shock path ``path_x`` (per step).

    Parameters
    ----------
    book : LevelBook
    path_x : (T,) float64
        Exogenous log price shock at each step (``log(1 + shock_pct/100)``); the last value
        holds after the path ends.
    rules : dict of str to VenueRules
        One entry per venue of ``book``.
    model : SqrtImpact, BookImpact or DepthProfileImpact
    decay : float
        Effective-flow multiplier per step (``liqmap.core.impact.decay_per_step``).
    step_s : float
        Seconds per step.
    max_steps : int
    engine : {"numba", "reference"}

    Returns
    -------
    CascadePath
    """
    path_x = np.asarray(path_x, dtype=np.float64)
    if path_x.size == 0 or not np.isfinite(path_x).all():
        raise ConfigError("the shock path is empty or holds NaN/inf; pass finite shocks")
    if not (step_s > 0 and math.isfinite(step_s)) or max_steps < 1:
        raise ConfigError("step_s must be > 0 and max_steps >= 1")
    missing = [v for v in book.venues if v not in rules]
    if missing:
        raise ConfigError(f"no venue rules for {missing}; pass rules for every venue")
    if check_engine(engine) == "reference":
        out = cascade_reference(book, path_x, step_s, max_steps, rules, model, decay)
    else:
        out = cascade_nb(book.price_usd, path_x, float(step_s), int(max_steps), book.up_px_usd,
                         book.up_usd, book.up_venue, book.dn_px_usd, book.dn_usd, book.dn_venue,
                         *(_rule_arrays(book, rules) + encode_impact(model)), float(decay))
    return CascadePath(*out[:9], truncated=bool(out[9]))

"""The cascade simulator: ``CascadeSimulator(...).run(maps, shock_pct) -> CascadeResult``.

Price rises, shorts are liquidated, their forced market buys push price up, more shorts are
liquidated (and the mirror for longs). The step kernel and the venue rules are in
``liqmap.core.cascade_kernels``, the impact models in ``liqmap.core.impact``; the default impact
constants are the shipped preset fitted on Hyperliquid window-C data
(``liqmap.cascade.impact_fit``). ``liqmap.cascade.run`` sets the simulator up for the bars a
map was built from (the answer the CLI and the API give).

>>> from liqmap.core.records import LiqMap
>>> import numpy as np
>>> bins = np.arange(90_000.0, 110_001.0, 100.0)
>>> m = LiqMap(0, 100_000.0, bins, np.where(bins < 1e5, 1e6, 0.0), np.where(bins > 1e5, 1e6, 0.0))
>>> res = CascadeSimulator().run(m, shock_pct=1.0)
>>> res.summary()["liquidated_short_usd"] > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from types import MappingProxyType
from typing import cast

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core import cascade_kernels as cc
from liqmap.core.engines import check_engine
from liqmap.core.impact import (
    BookImpact,
    DepthProfileImpact,
    ImpactModel,
    Resilience,
    SqrtImpact,
    decay_per_step,
)
from liqmap.core.records import LiqMap

__all__ = ["CascadeResult", "CascadeSimulator", "CurveResult", "default_impact", "replay"]

SHOCKS_PCT = np.arange(-30.0, 30.5, 0.5)


def default_impact(kind: str = "sqrt", **kw) -> ImpactModel:
    """The shipped preset's ``"sqrt"`` or ``"depth"`` model (kwargs go to ``preset_models``)."""
    from liqmap.cascade.impact_fit import preset_models

    models = preset_models(**kw)
    if kind not in models:
        raise ConfigError(f"unknown impact model {kind!r}; use 'sqrt', 'depth' or pass a "
                          "BookImpact built from an L2 snapshot")
    return models[kind]


def _ro(a) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _freeze_arrays(result) -> None:
    """Every array field of a frozen result replaced by a read-only copy of it."""
    for name in result.__dataclass_fields__:
        if isinstance(getattr(result, name), np.ndarray):
            object.__setattr__(result, name, _ro(getattr(result, name)))


@dataclass(frozen=True, slots=True)
class CascadeResult:
    """Read-only result of one cascade (``S`` steps, venues ``venues``); every array is a
    read-only copy.

    Attributes
    ----------
    reference_price_usd : float
        Price before the shock.
    shock_pct : float
        Final exogenous shock (the last value of the path), percent.
    t_s, price_usd : (S,) float64
        Seconds since the shock and mark price at each step.
    liq_long_usd, liq_short_usd : (S, V) float64
        Notional liquidated at each step per venue.
    forced_buy_usd, forced_sell_usd, vault_usd : (S,) float64
        Forced market orders sent at each step, and notional taken over by a vault.
    truncated : bool
        True when ``max_seconds`` ran out before the flow was absorbed.
    """

    venues: tuple[str, ...]
    reference_price_usd: float
    shock_pct: float
    t_s: np.ndarray
    price_usd: np.ndarray
    liq_long_usd: np.ndarray
    liq_short_usd: np.ndarray
    forced_buy_usd: np.ndarray
    forced_sell_usd: np.ndarray
    vault_usd: np.ndarray
    truncated: bool
    impact: str = "sqrt"
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _freeze_arrays(self)

    @property
    def terminal_price_usd(self) -> float:
        """Price once the forced flow is absorbed."""
        return float(self.price_usd[-1])

    @property
    def move_pct(self) -> float:
        """Terminal move from the reference price, percent."""
        return 100.0 * (self.terminal_price_usd / self.reference_price_usd - 1.0)

    @property
    def peak_move_pct(self) -> float:
        """Largest move in the shock's direction, percent."""
        rel = 100.0 * (self.price_usd / self.reference_price_usd - 1.0)
        return float(rel.max() if self.shock_pct >= 0 else rel.min())

    @property
    def amplification(self) -> float:
        """Terminal move / shock (nan for a zero shock)."""
        return self.move_pct / self.shock_pct if self.shock_pct != 0 else math.nan

    @property
    def cum_forced_usd(self) -> np.ndarray:
        """Cumulative forced market flow (buys + sells), USD, per step (read-only)."""
        return _ro(np.cumsum(self.forced_buy_usd + self.forced_sell_usd))

    def summary(self, *, path: bool = True) -> dict:
        """JSON-ready numbers (with the step-by-step path unless ``path=False``)."""
        out = {
            "reference_price_usd": self.reference_price_usd, "shock_pct": self.shock_pct,
            "terminal_price_usd": self.terminal_price_usd, "move_pct": self.move_pct,
            "peak_move_pct": self.peak_move_pct, "amplification": _num(self.amplification),
            "duration_s": float(self.t_s[-1]), "steps": int(self.t_s.size),
            "liquidated_long_usd": float(self.liq_long_usd.sum()),
            "liquidated_short_usd": float(self.liq_short_usd.sum()),
            "forced_buy_usd": float(self.forced_buy_usd.sum()),
            "forced_sell_usd": float(self.forced_sell_usd.sum()),
            "vault_usd": float(self.vault_usd.sum()), "truncated": self.truncated,
            "by_venue": {v: {"long_usd": float(self.liq_long_usd[:, i].sum()),
                             "short_usd": float(self.liq_short_usd[:, i].sum())}
                         for i, v in enumerate(self.venues)},
            "impact": self.impact, "params": self.params,
        }
        if path:
            out["path"] = {"t_s": self.t_s.tolist(), "price_usd": self.price_usd.tolist(),
                           "liq_long_usd": self.liq_long_usd.sum(1).tolist(),
                           "liq_short_usd": self.liq_short_usd.sum(1).tolist(),
                           "cum_forced_usd": self.cum_forced_usd.tolist()}
        return out

    def plot(self, path) -> object:
        """Write the path chart (``.png`` or ``.html``); returns the path written."""
        from liqmap.plots.cascade_chart import plot_cascade

        return plot_cascade(self, path)


def _num(x: float):
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True, slots=True)
class CurveResult:
    """Amplification over a grid of shocks, with thresholds and the up/down asymmetry.

    ``threshold_up_pct`` (``threshold_down_pct``) is the smallest positive (negative) shock
    whose amplification reaches ``sustain_amplification``: from there the cascade's own
    move at least matches the shock (``None`` if no shock in the grid reaches it).
    ``asymmetry`` in [-1, 1] is ``(E_up - E_down) / (E_up + E_down)``, ``E`` the summed
    endogenous move ``|move| - |shock|`` over matching shock sizes: +1 = only upside
    cascades (short squeeze), -1 = only downside.
    """

    shocks_pct: np.ndarray
    move_pct: np.ndarray
    liquidated_long_usd: np.ndarray
    liquidated_short_usd: np.ndarray
    reference_price_usd: float
    sustain_amplification: float
    threshold_up_pct: float | None
    threshold_down_pct: float | None
    asymmetry: float
    impact: str = "sqrt"

    def __post_init__(self) -> None:
        _freeze_arrays(self)

    @property
    def amplification(self) -> np.ndarray:
        """Move / shock per grid point (nan at zero; read-only)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ro(np.where(self.shocks_pct != 0, self.move_pct / self.shocks_pct, np.nan))

    def summary(self) -> dict:
        """JSON-ready numbers."""
        return {
            "reference_price_usd": self.reference_price_usd,
            "sustain_amplification": self.sustain_amplification,
            "threshold_up_pct": self.threshold_up_pct,
            "threshold_down_pct": self.threshold_down_pct,
            "asymmetry": _num(self.asymmetry), "impact": self.impact,
            "shocks_pct": self.shocks_pct.tolist(), "move_pct": self.move_pct.tolist(),
            "amplification": [_num(a) for a in self.amplification],
            "liquidated_long_usd": self.liquidated_long_usd.tolist(),
            "liquidated_short_usd": self.liquidated_short_usd.tolist(),
        }

    def plot(self, path):
        """Write the amplification chart (``.png`` or ``.html``); returns the path written."""
        from liqmap.plots.cascade_chart import plot_amplification

        return plot_amplification(self, path)


def _as_maps(maps) -> dict[str, LiqMap]:
    if isinstance(maps, LiqMap):
        return {maps.venue: maps}
    if isinstance(maps, Mapping):
        return dict(maps)
    if isinstance(maps, Sequence):
        out = {}
        for m in maps:
            if m.venue in out:
                raise ConfigError(f"two maps for venue {m.venue!r}; pass a dict with distinct "
                                  "keys")
            out[m.venue] = m
        return out
    raise ConfigError("maps must be a LiqMap, a dict venue -> LiqMap or a list of LiqMaps")


@dataclass(frozen=True, slots=True)
class CascadeSimulator:
    """Simulate liquidation cascades on a level book (a frozen estimator, like
    ``LiquidationModel``: visible parameters, ``run`` returns a read-only ``CascadeResult``).

    Parameters
    ----------
    impact : SqrtImpact, BookImpact, DepthProfileImpact or {"sqrt", "depth"}, default "sqrt"
        Impact model; a name takes the shipped calibrated preset (the field then holds that
        model).
    venue_rules : "auto", str, VenueRules or dict
        ``"auto"``: each map's venue picks its rules (``liqmap.core.cascade_kernels.VENUE_RULES``);
        a venue name applies its rules to every map; a dict gives rules (or names) per venue
        (held as a read-only mapping).
    step_seconds : float, default 5
        Simulated seconds per step.
    resilience : Resilience or None
        Book recovery between steps (None: permanent impact).
    max_seconds : float, default 3600
        Horizon; a cascade still running then is ``truncated``.
    engine : {"numba", "reference"}
        The compiled kernel or its plain twin (``liqmap.core.engines``: the same switch as
        ``LiquidationModel.run`` and ``IncrementalModel``).
    """

    impact: ImpactModel | str = "sqrt"
    venue_rules: str | cc.VenueRules | Mapping = "auto"
    _: KW_ONLY
    step_seconds: float = 5.0
    resilience: Resilience | None = None
    max_seconds: float = 3600.0
    engine: str = "numba"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.step_seconds) and self.step_seconds > 0):
            raise ConfigError(f"step_seconds must be > 0, got {self.step_seconds!r}")
        if not (math.isfinite(self.max_seconds) and self.max_seconds >= self.step_seconds):
            raise ConfigError("max_seconds must be finite and >= step_seconds")
        check_engine(self.engine)
        if isinstance(self.impact, str):
            object.__setattr__(self, "impact", default_impact(self.impact))
        if not isinstance(self.impact, (SqrtImpact, BookImpact, DepthProfileImpact)):
            raise ConfigError("impact must be 'sqrt', 'depth', or a SqrtImpact, BookImpact or "
                              "DepthProfileImpact")
        if self.resilience is not None and not isinstance(self.resilience, Resilience):
            raise ConfigError("resilience must be a Resilience(half_life_s) or None")
        object.__setattr__(self, "step_seconds", float(self.step_seconds))
        object.__setattr__(self, "max_seconds", float(self.max_seconds))
        vr = self.venue_rules
        if isinstance(vr, str) and vr != "auto":
            cc.rules_for(vr)  # fail early on an unknown name
        elif isinstance(vr, Mapping):
            object.__setattr__(self, "venue_rules", MappingProxyType(dict(vr)))
        elif not isinstance(vr, (str, cc.VenueRules)):
            raise ConfigError("venue_rules must be 'auto', a venue name, VenueRules or a dict")

    @property
    def _model(self) -> ImpactModel:
        """``impact`` as ``__post_init__`` resolved it (never a name once built)."""
        return cast(ImpactModel, self.impact)

    def _rules(self, venues) -> dict[str, cc.VenueRules]:
        vr = self.venue_rules
        if vr == "auto":
            return {v: cc.rules_for(v) for v in venues}
        if isinstance(vr, str):
            return {v: cc.rules_for(vr) for v in venues}
        if isinstance(vr, cc.VenueRules):
            return {v: vr for v in venues}
        if isinstance(vr, Mapping):
            missing = [v for v in venues if v not in vr]
            if missing:
                raise ConfigError(f"venue_rules has no entry for {missing}")
            return {v: vr[v] if isinstance(vr[v], cc.VenueRules) else cc.rules_for(vr[v])
                    for v in venues}
        raise ConfigError("venue_rules must be 'auto', a venue name, VenueRules or a dict")

    def params(self) -> dict:
        """The simulator's parameters, JSON-ready."""
        model = self._model
        imp = {k: getattr(model, k) for k in model.__slots__
               if not isinstance(getattr(model, k), np.ndarray)}
        return {"impact": model.name, "impact_params": imp,
                "venue_rules": self.venue_rules if isinstance(self.venue_rules, str) else "custom",
                "step_seconds": self.step_seconds, "max_seconds": self.max_seconds,
                "resilience_half_life_s": None if self.resilience is None
                else self.resilience.half_life_s}

    def _prepare(self, maps):
        mp = _as_maps(maps)
        book = cc.build_level_book(mp)
        return book, self._rules(book.venues)

    def _simulate(self, book, rules, path_pct) -> cc.CascadePath:
        path = np.atleast_1d(np.asarray(path_pct, dtype=np.float64))
        if path.size == 0 or not np.isfinite(path).all():
            raise ConfigError("shock must be a finite number of percent (got NaN/inf or "
                              "an empty path)")
        if np.any(path <= -100.0):
            raise ConfigError("a shock of -100 % or below leaves no price; pass > -100")
        return cc.simulate(book, np.log1p(path / 100.0), rules=rules, model=self._model,
                           decay=decay_per_step(self.resilience, self.step_seconds),
                           step_s=self.step_seconds,
                           max_steps=max(int(self.max_seconds / self.step_seconds), path.size),
                           engine=self.engine)

    def run(self, maps, shock_pct: float | None = None, *, path_pct=None) -> CascadeResult:
        """Run one cascade.

        Parameters
        ----------
        maps : LiqMap, dict of str to LiqMap, or list of LiqMap
            The level book per venue (e.g. ``Estimate.final_map``).
        shock_pct : float
            Instant exogenous move, percent (+3 = price up 3 %).
        path_pct : sequence of float, optional
            Exogenous move per step instead (percent from the reference price).

        Returns
        -------
        CascadeResult
        """
        if (shock_pct is None) == (path_pct is None):
            raise ConfigError("give exactly one of shock_pct or path_pct")
        book, rules = self._prepare(maps)
        path = [shock_pct] if path_pct is None else path_pct
        out = self._simulate(book, rules, path)
        last = float(np.atleast_1d(np.asarray(path, dtype=float))[-1])
        return CascadeResult(
            book.venues, book.price_usd, last, out.t_s, out.price_usd, out.liq_long_usd,
            out.liq_short_usd, out.buy_usd, out.sell_usd, out.vault_usd, out.truncated,
            self._model.name, self.params())

    def amplification_curve(self, maps, shocks=SHOCKS_PCT, *,
                            sustain_amplification: float = 2.0) -> CurveResult:
        """Terminal move for each shock of ``shocks`` (percent), thresholds and asymmetry."""
        s = np.asarray(shocks, dtype=np.float64)
        if s.size == 0 or not np.isfinite(s).all():
            raise ConfigError("shocks must be finite percents")
        book, rules = self._prepare(maps)
        move, ll, ls = np.empty(s.size), np.empty(s.size), np.empty(s.size)
        for i, x in enumerate(s):
            out = self._simulate(book, rules, [x])
            move[i] = 100.0 * (out.price_usd[-1] / book.price_usd - 1.0)
            ll[i], ls[i] = out.liq_long_usd.sum(), out.liq_short_usd.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            amp = np.where(s != 0, move / s, np.nan)
        return CurveResult(s, move, ll, ls, book.price_usd,
                           float(sustain_amplification),
                           _threshold(s, amp, sustain_amplification, +1),
                           _threshold(s, amp, sustain_amplification, -1),
                           _asymmetry(s, move), self._model.name)


def _threshold(s, amp, level, sign) -> float | None:
    ok = (np.sign(s) == sign) & (amp >= level)
    return float(s[ok][np.argmin(np.abs(s[ok]))]) if ok.any() else None


def _asymmetry(s, move) -> float:
    """(E_up - E_down) / (E_up + E_down) over shock sizes present on both sides."""
    endo = np.abs(move) - np.abs(s)
    sizes = np.intersect1d(s[s > 0], -s[s < 0])
    up = sum(endo[s == a][0] for a in sizes)
    dn = sum(endo[s == -a][0] for a in sizes)
    tot = up + dn
    return float((up - dn) / tot) if tot > 0 else math.nan


def replay(sim: CascadeSimulator, maps, *, open_usd, high_usd, low_usd, close_usd,
           realized_long_usd: float, realized_short_usd: float) -> dict:
    """Replay a real move from the map as it stood before it, against realized liquidations.

    Parameters
    ----------
    sim : CascadeSimulator
    maps : LiqMap or dict
        The map(s) just before the move.
    open_usd, high_usd, low_usd, close_usd : (H,) arrays
        The bars of the move (each bar visits its high then its low when it closed down,
        else its low then its high).
    realized_long_usd, realized_short_usd : float
        Realized liquidations over the same bars.

    Returns
    -------
    dict
        ``crossed``: the map's levels the real path crossed (no impact); ``simulated``: the
        cascade ``sim`` predicts from the first bar's extreme alone; both next to the realized
        numbers and the realized extreme move.
    """
    book, _ = sim._prepare(maps)
    p0 = book.price_usd
    o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (open_usd, high_usd, low_usd, close_usd))
    pts = np.column_stack([np.where(c < o, h, lo), np.where(c < o, lo, h)]).ravel()
    path = 100.0 * (pts / p0 - 1.0)
    zero = replace(sim, impact=SqrtImpact(0.0, 1.0, 1.0), resilience=None)  # levels crossed only
    crossed = zero.run(maps, path_pct=path).summary(path=False)
    first = float(path[1] if abs(path[1]) > abs(path[0]) else path[0])
    simulated = sim.run(maps, first).summary(path=False)
    keys = ("liquidated_long_usd", "liquidated_short_usd")
    return {
        "reference_price_usd": p0, "bars": int(o.size),
        "realized_low_pct": float(100 * (lo.min() / p0 - 1)),
        "realized_high_pct": float(100 * (h.max() / p0 - 1)),
        "realized_long_usd": float(realized_long_usd), "realized_short_usd": float(realized_short_usd),
        "crossed": {k: crossed[k] for k in keys},
        "simulated": {"shock_pct": first, "move_pct": simulated["move_pct"],
                      "amplification": simulated["amplification"],
                      **{k: simulated[k] for k in keys}},
        "ratio_crossed_long": _ratio(crossed["liquidated_long_usd"], realized_long_usd),
        "ratio_simulated_long": _ratio(simulated["liquidated_long_usd"], realized_long_usd),
    }


def _ratio(a: float, b: float):
    return float(a / b) if b > 0 else None

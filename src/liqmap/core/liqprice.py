"""Liquidation prices by each venue's own rule (BTC perpetuals), with tiered maintenance margin.

Linear venues (USDT/USDC-margined; size ``qty`` in coin, margin in quote):

* ``binance`` (USDⓈ-M): ``LP = (WB - TMM + UPNL + cum - s*Q*EP) / (Q*MMR - s*Q)``; the
  bracket is the one holding the notional *at the liquidation price*, re-picked until stable.
  Isolated: ``WB`` = isolated wallet, ``tmm = upnl = 0``; cross: pass ``tmm`` and ``upnl``
  (maintenance margin and unrealised PnL of the account's other positions) with WB.
* ``hyperliquid``: ``liq = price - s * margin_available / Q / (1 - s*mmr)``, where
  ``margin_available = collateral - maintenance margin`` at ``price``; the same equation as
  Binance's with the tier deduction, tier re-picked at the liquidation notional.
* ``bybit``: ``LP = EP - s * (IM - MM) / Q`` with ``MM = value*MMR - deduction`` at the entry
  value (Bybit's published isolated formula; extra margin is part of ``margin``).
* ``okx``: OKX liquidates when equity falls to maintenance margin plus the taker fee to close,
  both on the mark value: ``M + s*Q*(P - EP) = Q*P*(mmr + taker_fee)``. This folds the fee in
  additively; OKX's margin-trading estimate uses ``(1 + mmr)(1 + taker)`` instead, which
  differs by ``mmr*taker`` (about 2e-6 relative).

Inverse venue ``binance-inverse`` (COIN-M BTCUSD_PERP; ``qty`` in contracts of 100 USD,
margin in BTC, PnL in BTC ``s*N*(1/EP - 1/P)``): ``LP = N*(MMR + s) / (WB + cum + s*N/EP)``
with ``N = contracts*100`` and the bracket of the BTC notional ``N/LP``.

``s`` = +1 long, -1 short. A long that can never be liquidated gets 0.0, a short ``inf``.
Fees, funding and partial liquidation are not modelled (except OKX's fee term above).

Examples
--------
>>> round(liquidation_price("binance", "long", 100_000, 0.1, 1_000), 2)
90361.45
>>> round(liquidation_price("hyperliquid", "long", 100_000, 1.0, 10_000), 2)
91139.24
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError
from liqmap.core.tiers import (  # max_leverage: a tier fact, re-exported here
    MarginTier,
    TierTable,
    _table_for,
    max_leverage,
)

__all__ = [
    "MAX_NOTIONAL_USD",
    "MIN_NOTIONAL_USD",
    "OKX_TAKER_FEE",
    "LiqResult",
    "check_position_leverage",
    "isolated_liq_factors",
    "liquidation_price",
    "liquidation_result",
    "max_leverage",
    "okx_contracts_to_coin",
]

OKX_TAKER_FEE = 0.0005
"""Default OKX taker fee (0.05 %, regular-user USDT-margined swap rate) folded into the OKX rule."""

MAX_NOTIONAL_USD = 1e12
"""Largest position notional (USD) accepted: ten times the whole BTC perpetual open interest
of all venues together (about 1e11 USD in 2025); a larger size is a unit error."""

MIN_NOTIONAL_USD = 1e-8
"""Smallest position notional (USD) accepted: below it the arithmetic underflows."""

_SIDES = {"long": 1, "short": -1}
_OPTS = {
    "binance": {"tmm", "upnl"},
    "binance-inverse": {"tmm", "upnl"},
    "bybit": set(),
    "okx": {"taker_fee"},
    "hyperliquid": {"tmm", "mark_price"},
}


@dataclass(frozen=True, slots=True)
class LiqResult:
    """A liquidation price with how it was found.

    Attributes
    ----------
    liquidation_price : float
        Mark price that triggers liquidation (0.0: a long never liquidated; inf: a short).
    bankruptcy_price : float
        Price at which the position's collateral is exactly used up (same conventions).
    tier : MarginTier
        Tier (bracket) used for the final price.
    table : TierTable
        The tier table used.
    side : str
        ``"long"`` or ``"short"``.
    """

    liquidation_price: float
    bankruptcy_price: float
    tier: MarginTier
    table: TierTable
    side: str


def okx_contracts_to_coin(contracts: float, ct_val: float = 0.01) -> float:
    """OKX size in contracts to coin (BTC-USDT-SWAP: 1 contract = 0.01 BTC)."""
    return float(contracts) * ct_val


def liquidation_price(
    venue: str,
    side: str,
    entry_price: float,
    qty: float,
    margin: float,
    *,
    table: TierTable | None = None,
    **venue_opts: float,
) -> float:
    """Liquidation (mark) price of one position by ``venue``'s rule.

    Parameters
    ----------
    venue : str
        ``binance``, ``binance-inverse``, ``bybit``, ``okx`` or ``hyperliquid``.
    side : {"long", "short"}
    entry_price : float
        Average entry price (USD per coin).
    qty : float
        Size: coin for linear venues (OKX: convert contracts with
        :func:`okx_contracts_to_coin`), contracts (100 USD each) for ``binance-inverse``.
    margin : float
        Collateral of the position: isolated margin / wallet in quote currency, in coin
        for ``binance-inverse``. Cross (Binance): the cross wallet balance.
    table : TierTable, optional
        Tier table; default the venue's latest.
    **venue_opts
        ``tmm``, ``upnl`` (binance, binance-inverse: other positions' maintenance margin and
        unrealised PnL, cross margin); ``taker_fee`` (okx, default :data:`OKX_TAKER_FEE`);
        ``mark_price``, ``tmm`` (hyperliquid: ``margin`` is then the equity at
        ``mark_price``, e.g. the account value in cross margin).

    Returns
    -------
    float
        The price; 0.0 for a long and ``inf`` for a short that can never be liquidated.

    Raises
    ------
    ConfigError
        Unknown venue or option, side not long/short, non-positive or non-finite inputs.
    """
    res = liquidation_result(venue, side, entry_price, qty, margin, table=table, **venue_opts)
    return res.liquidation_price


def liquidation_result(
    venue: str,
    side: str,
    entry_price: float,
    qty: float,
    margin: float,
    *,
    table: TierTable | None = None,
    **venue_opts: float,
) -> LiqResult:
    """Like :func:`liquidation_price`, with the bankruptcy price and the tier used."""
    s, tbl, opts = _validate(venue, side, entry_price, qty, margin, table, venue_opts)
    if venue == "binance-inverse":
        lp, tier = _inverse_lp(s, entry_price, qty * tbl.contract_size, margin, opts, tbl)
        bp = _inverse_bankruptcy(s, entry_price, qty * tbl.contract_size, margin + opts["upnl"])
    elif venue == "bybit":
        tier = tbl.tier_for(qty * entry_price)
        lp = _clip(s, entry_price - s * (margin - tier.maintenance_margin(qty * entry_price)) / qty)
        bp = _clip(s, entry_price - s * margin / qty)
    else:
        collateral, fee = _linear_collateral(venue, s, entry_price, qty, margin, opts)
        lp, tier = _linear_lp(s, entry_price, qty, collateral, fee, tbl)
        bp = _clip(s, entry_price - s * collateral / qty)
    return LiqResult(float(lp), float(bp), tier, tbl, side)


def isolated_liq_factors(
    venue: str,
    leverages: np.ndarray,
    position_notional_usd: float,
    *,
    table: TierTable | None = None,
    reference_price_usd: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Liquidation price / entry price of isolated positions, per leverage.

    For each leverage ``L`` the position has notional ``position_notional_usd`` and margin
    ``notional / L`` (in coin at entry for ``binance-inverse``). The engine multiplies entry
    prices by these factors.

    Parameters
    ----------
    venue : str
        One of :data:`liqmap.core.tiers.VENUES`.
    leverages : (K,) array_like
        Leverages, > 0.
    position_notional_usd : float
        Position notional in USD at entry.
    table : TierTable, optional
        Tier table; default the venue's latest.
    reference_price_usd : float, optional
        Entry price used only when the tiers are set in coin (``binance-inverse``; OKX
        tables with more than one tier): there the factor depends on the entry price
        through the coin notional ``notional / price``. For USD-tiered venues the factors
        are exactly independent of the entry price.

    Returns
    -------
    long_factor, short_factor : (K,) float64
        0.0 where a long can never be liquidated, ``inf`` where a short can never be.

    Examples
    --------
    >>> lo, sh = isolated_liq_factors("binance", [10.0], 10_000.0)
    >>> round(float(lo[0]), 6), round(float(sh[0]), 6)  # (1 - 1/L)/(1 - MMR), (1 + 1/L)/(1 + MMR)
    (0.903614, 1.095618)
    """
    lev = np.asarray(leverages, dtype=np.float64).reshape(-1)
    if lev.size and (not np.all(np.isfinite(lev)) or np.any(lev <= 0)):
        raise ConfigError("leverages must be finite and > 0; remove zero, negative or NaN values")
    _positive("position_notional_usd", position_notional_usd)
    tbl = _table_for(venue, table)
    price = _factor_price(tbl, reference_price_usd)
    long_f = np.empty(lev.size)
    short_f = np.empty(lev.size)
    for i, lv in enumerate(lev):
        long_f[i] = _factor(venue, "long", lv, position_notional_usd, price, tbl)
        short_f[i] = _factor(venue, "short", lv, position_notional_usd, price, tbl)
    return long_f, short_f


# --------------------------------------------------------------------------- solvers


def _linear_collateral(venue: str, s: int, entry: float, qty: float, margin: float,
                       opts: dict[str, Any]) -> tuple[float, float]:
    """Collateral at entry (quote) and fee rate for the linear solver."""
    if venue == "okx":
        return margin, opts["taker_fee"]
    if venue == "hyperliquid":
        mark = opts["mark_price"]
        shift = 0.0 if mark is None else s * qty * (mark - entry)
        return margin - opts["tmm"] - shift, 0.0
    return margin - opts["tmm"] + opts["upnl"], 0.0


def _linear_lp(s: int, entry: float, qty: float, collateral: float, fee: float,
               tbl: TierTable) -> tuple[float, MarginTier]:
    """Root of ``C + s*Q*(P - EP) = MM(notional at P) + fee*Q*P``, re-picking the tier.

    ``MM`` is convex and continuous in the notional, so the equity gap is strictly
    monotone in P and exactly one tier holds the root.
    """
    if s > 0 and collateral - qty * entry >= 0:
        return 0.0, tbl.tiers[0]  # equity stays above MM down to a price of zero
    coin_tiers = tbl.notional_unit == "coin"  # OKX: tiers by size, the same at every price
    idx = tbl.tier_index(qty if coin_tiers else qty * entry)
    for _ in range(len(tbl.tiers) + 1):
        tier = tbl.tiers[idx]
        lp = (s * qty * entry - collateral - tier.cum_usd) / (qty * (s - tier.mmr - fee))
        new = tbl.tier_index(qty if coin_tiers else qty * max(lp, 0.0))
        if new == idx:
            return _clip(s, lp), tier
        idx = new
    return _linear_scan(s, entry, qty, collateral, fee, tbl)


def _linear_scan(s: int, entry: float, qty: float, collateral: float, fee: float,
                 tbl: TierTable) -> tuple[float, MarginTier]:
    """Fallback of :func:`_linear_lp`: the tier whose own root lies inside it."""
    for tier in tbl.tiers:
        lp = (s * qty * entry - collateral - tier.cum_usd) / (qty * (s - tier.mmr - fee))
        if tier.floor_usd <= qty * max(lp, 0.0) <= tier.cap_usd:
            return _clip(s, lp), tier
    raise ConfigError("no consistent tier found; check the tier table is contiguous")  # pragma: no cover


def _inverse_lp(s: int, entry: float, n_usd: float, wallet_coin: float, opts: dict[str, Any],
                tbl: TierTable) -> tuple[float, MarginTier]:
    """Binance COIN-M: ``LP = N*(MMR + s) / (WB - TMM + UPNL + cum + s*N/EP)``."""
    wb = wallet_coin - opts["tmm"] + opts["upnl"]
    idx = tbl.tier_index(n_usd / entry)
    for _ in range(len(tbl.tiers) + 1):
        tier = tbl.tiers[idx]
        den = wb + tier.cum_usd + s * n_usd / entry
        # a short with den >= 0 holds enough coin never to be liquidated (lp <= 0 or inf)
        lp = math.inf if den == 0 else n_usd * (tier.mmr + s) / den
        new = tbl.tier_index(n_usd / lp if 0 < lp < math.inf else 0.0)
        if new == idx:
            return _clip(s, lp), tier
        idx = new
    return _clip(s, lp), tier  # pragma: no cover - monotone equity gap converges


def _inverse_bankruptcy(s: int, entry: float, n_usd: float, wallet_coin: float) -> float:
    """Price at which ``WB + s*N*(1/EP - 1/P) = 0``."""
    inv = 1.0 / entry + s * wallet_coin / n_usd
    return math.inf if inv <= 0 else _clip(s, 1.0 / inv)


def _clip(s: int, price: float) -> float:
    """0.0 for a long never liquidated (price <= 0); inf for a short (price <= 0 or inf)."""
    if price <= 0 or math.isinf(price):
        return 0.0 if s > 0 else math.inf
    return float(price)


def _factor(venue: str, side: str, lev: float, notional_usd: float, price: float,
            tbl: TierTable) -> float:
    """Liquidation price / entry of an isolated position with margin = notional / L."""
    if venue == "binance-inverse":
        contracts = notional_usd / tbl.contract_size
        margin = notional_usd / price / lev
        lp = liquidation_price(venue, side, price, contracts, margin, table=tbl)
    else:
        lp = liquidation_price(venue, side, price, notional_usd / price, notional_usd / lev, table=tbl)
    return lp / price


def _factor_price(tbl: TierTable, reference_price_usd: float | None) -> float:
    if reference_price_usd is not None:
        _positive("reference_price_usd", reference_price_usd)
        return float(reference_price_usd)
    if tbl.notional_unit == "coin" and len(tbl.tiers) > 1:
        raise ConfigError(
            f"{tbl.venue} tiers are set in coin, so the factors depend on the entry price; "
            "pass reference_price_usd (a typical entry price)"
        )
    return 1.0


# --------------------------------------------------------------------------- validation


def _validate(venue: str, side: str, entry: float, qty: float, margin: float,
              table: TierTable | None, opts: dict[str, float],
              ) -> tuple[int, TierTable, dict[str, Any]]:
    tbl = _table_for(venue, table)
    if side not in _SIDES:
        raise ConfigError(f"side must be 'long' or 'short', got {side!r}")
    _positive("entry_price", entry)
    _positive("qty", qty)
    _check_notional(entry, qty, tbl)
    if not _finite(margin) or margin < 0:
        raise ConfigError(f"margin must be a finite number >= 0, got {margin!r}")
    unknown = set(opts) - _OPTS[venue]
    if unknown:
        allowed = ", ".join(sorted(_OPTS[venue])) or "none"
        raise ConfigError(f"unknown option(s) {sorted(unknown)} for {venue}; allowed: {allowed}")
    given = {k: v for k, v in opts.items() if v is not None}
    full: dict[str, Any] = {"tmm": 0.0, "upnl": 0.0, "taker_fee": OKX_TAKER_FEE,
                            "mark_price": None} | given
    for key, val in full.items():
        if val is not None and not _finite(val):
            raise ConfigError(f"{key} must be a finite number, got {val!r}")
    if full["mark_price"] is not None:
        _positive("mark_price", full["mark_price"])
    if not 0 <= full["taker_fee"] < 0.1:
        raise ConfigError(f"taker_fee is a fraction (0.0005 = 0.05 %), got {full['taker_fee']!r}")
    return _SIDES[side], tbl, full


def _notional_usd(entry: float, qty: float, tbl: TierTable) -> float:
    """Position notional in USD at entry (contracts x contract size for inverse)."""
    return float(qty) * (tbl.contract_size if tbl.inverse else float(entry))


def _check_notional(entry: float, qty: float, tbl: TierTable) -> None:
    n = _notional_usd(entry, qty, tbl)
    size = "contracts x contract size" if tbl.inverse else "qty x entry_price"
    if not MIN_NOTIONAL_USD <= n <= MAX_NOTIONAL_USD:
        raise ConfigError(
            f"position notional ({size}) is {n:.6g} USD: it must be between "
            f"{MIN_NOTIONAL_USD:g} and {MAX_NOTIONAL_USD:g} USD (more than all BTC open "
            "interest is a unit error); check the size and the entry price")


def check_position_leverage(venue: str, entry_price: float, qty: float, margin: float, *,
                            table: TierTable | None = None, name: str = "leverage") -> float:
    """Leverage ``notional / margin`` of an isolated position; :class:`ConfigError` when it
    is above what ``venue`` allows for a position of that size (a long with more leverage
    than the venue allows would be "liquidated" above its entry).

    ``qty`` and ``margin`` are in the units of :func:`liquidation_price`; ``name`` is how
    the message calls the leverage (e.g. ``"--leverage"``).

    Examples
    --------
    >>> check_position_leverage("binance", 100_000, 0.1, 1_000)
    10.0
    """
    tbl = _table_for(venue, table)
    _positive("entry_price", entry_price)
    _positive("qty", qty)
    _check_notional(entry_price, qty, tbl)
    if not _finite(margin) or margin < 0:
        raise ConfigError(f"margin must be a finite number >= 0, got {margin!r}")
    n_usd = _notional_usd(entry_price, qty, tbl)
    n_margin_unit = n_usd / entry_price if tbl.inverse else n_usd
    lev = math.inf if margin == 0 else n_margin_unit / margin
    n_tier = n_usd / entry_price if tbl.notional_unit == "coin" else n_usd
    cap, top = max_leverage(venue, n_tier, table=tbl), max_leverage(venue, table=tbl)
    if lev > cap * (1 + 1e-9):
        unit = "USD" if tbl.notional_unit != "coin" else (
            "BTC" if tbl.inverse else tbl.symbol.split("-")[0])  # OKX: ETH-USDT-SWAP -> ETH
        where = "" if cap == top else (
            f" for a position of {_amount(n_tier)} {unit} ({top:g}x only up to "
            f"{_amount(tbl.tiers[0].cap_usd)} {unit})")
        raise ConfigError(
            f"{name} ({lev:,.6g}x) is above {venue}'s maximum leverage of {cap:g}x{where}, "
            f"tier table {tbl.version}; lower the leverage or add margin")
    return float(lev)


def _amount(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.6g}"


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _positive(name: str, x: Any) -> None:
    if not _finite(x) or float(x) <= 0:
        raise ConfigError(f"{name} must be a finite number > 0, got {x!r}")

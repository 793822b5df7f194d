"""Versioned maintenance-margin tier tables of the perpetuals liqmap models (BTC, ETH, SOL).

Every venue sizes its maintenance margin by the position's notional in tiers (Binance
"brackets", Bybit "risk limits", OKX "position tiers", Hyperliquid "margin tiers").
Each tier has a maintenance margin rate ``mmr`` and a deduction ``cum`` chosen so that the
maintenance margin ``notional * mmr - cum`` is continuous across tier boundaries::

    cum_n = cum_{n-1} + floor_n * (mmr_n - mmr_{n-1}),   cum_1 = 0

Tables ship offline as Python data, each with the date it was in force (``version``),
where its numbers come from (``source``, which also says what could not be verified) and
whether every tier is read from a recorded venue answer (``verified``). ETH and SOL tables
exist only where such an answer was found (:data:`MISSING` lists the others).

Venue answers become tiers through :func:`tiers_from_leverage_tiers` (ccxt ``LeverageTier``
records, as ``fetch_market_leverage_tiers`` returns them) and :func:`tiers_from_margin_table`
(Hyperliquid ``meta`` margin tables); ``tests/core/test_tiers_verified.py`` runs recorded venue
answers through them against the shipped tables.

Units: ``floor_usd`` / ``cap_usd`` / ``cum_usd`` are in the table's ``notional_unit``:
``"usd"`` (quote currency, USDT or USDC) for linear contracts, ``"coin"`` (BTC) for the
Binance COIN-M inverse contract and for OKX, whose tiers are set by position size.

Examples
--------
>>> t = get_tier_table("binance")
>>> t.version, t.tier_for(100_000.0).mmr, t.tier_for(100_000.0).cum_usd
('2024-10-24', 0.005, 50.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from liqmap._exceptions import ConfigError
from liqmap.core._tier_rows import MISSING, TABLE_ROWS

__all__ = [
    "MISSING",
    "VENUES",
    "MarginTier",
    "TierTable",
    "build_tiers",
    "get_tier_table",
    "list_tier_tables",
    "max_leverage",
    "tier_symbols",
    "tiers_from_leverage_tiers",
    "tiers_from_margin_table",
]

VENUES = ("binance", "binance-inverse", "bybit", "okx", "hyperliquid")

INF = math.inf


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One maintenance-margin tier.

    Attributes
    ----------
    floor_usd, cap_usd : float
        Notional range ``[floor, cap)`` of the tier, in the table's ``notional_unit``
        (USD for linear contracts, BTC for inverse and OKX tables); ``cap_usd`` is ``inf``
        for the last tier.
    max_leverage : float
        Highest initial leverage the venue allows in the tier.
    mmr : float
        Maintenance margin rate (fraction, 0.004 = 0.4 %).
    cum_usd : float
        Maintenance amount (Binance ``cum``, Bybit "MM deduction"): maintenance margin is
        ``notional * mmr - cum_usd``.
    """

    floor_usd: float
    cap_usd: float
    max_leverage: float
    mmr: float
    cum_usd: float

    def maintenance_margin(self, notional: float) -> float:
        """Maintenance margin of a position of ``notional`` in this tier (same unit)."""
        return notional * self.mmr - self.cum_usd


@dataclass(frozen=True, slots=True)
class TierTable:
    """A venue's tier table for one symbol, as in force from ``version`` on.

    Attributes
    ----------
    venue : str
        One of :data:`VENUES`.
    symbol : str
        Venue-native symbol (``BTCUSDT``, ``BTCUSD_PERP``, ``BTC-USDT-SWAP``, ``BTC``).
    version : str
        ISO date (``YYYY-MM-DD``) from which the table applies; for a table read from a recorded
        venue answer, the day it was recorded (in force then, perhaps earlier).
    source : str
        Where the numbers come from, and what is not verified.
    tiers : tuple of MarginTier
        Ascending, contiguous tiers; the first starts at 0.
    contract_size : float, default 1.0
        Size of one contract: USD per contract for inverse (100 for BTCUSD_PERP), coin per
        contract for OKX (0.01 BTC); 1.0 where sizes are in coin.
    inverse : bool, default False
        True for coin-margined (inverse) contracts: margin and PnL are in coin.
    notional_unit : {"usd", "coin"}
        Unit of the tier bounds and of ``cum_usd``.
    verified : bool, default False
        True when every tier comes from a recorded venue answer (the last tier's open end
        apart, which is what a venue does beyond its last cap); False when any tier is
        transcribed from secondary sources, extrapolated or stretched over other sizes.
    """

    venue: str
    symbol: str
    version: str
    source: str
    tiers: tuple[MarginTier, ...]
    contract_size: float = 1.0
    inverse: bool = False
    notional_unit: str = "usd"
    verified: bool = False

    def __post_init__(self) -> None:
        _check_tiers(self.tiers, f"{self.venue} {self.symbol} {self.version}")

    def tier_index(self, notional: float) -> int:
        """Index of the tier holding ``notional`` (beyond the last cap: the last tier)."""
        if not math.isfinite(notional) and notional != INF:
            raise ConfigError(f"notional must be a number, got {notional!r}")
        n = abs(notional)
        for i, tier in enumerate(self.tiers):
            if n < tier.cap_usd:
                return i
        return len(self.tiers) - 1

    def tier_for(self, notional: float) -> MarginTier:
        """The tier that holds a position of ``notional`` (in ``notional_unit``).

        Tiers are half-open, ``floor <= notional < cap``; the sign of ``notional`` is
        ignored (a short's size counts like a long's).
        """
        return self.tiers[self.tier_index(notional)]

    def maintenance_margin(self, notional: float) -> float:
        """Maintenance margin ``notional * mmr - cum`` with the tier of ``notional``."""
        return self.tier_for(notional).maintenance_margin(abs(notional))


def build_tiers(rows: tuple[tuple[float, float, float, float], ...]) -> tuple[MarginTier, ...]:
    """Build tiers from ``(floor, cap, max_leverage, mmr)`` rows, computing ``cum``.

    ``cum_n = cum_{n-1} + floor_n * (mmr_n - mmr_{n-1})`` with ``cum_1 = 0``.

    Examples
    --------
    >>> [t.cum_usd for t in build_tiers(((0, 50e3, 125, 0.004), (50e3, INF, 100, 0.005)))]
    [0.0, 50.0]
    """
    tiers: list[MarginTier] = []
    cum, prev_mmr = 0.0, None
    for floor, cap, max_lev, mmr in rows:
        if prev_mmr is not None:
            cum += floor * (mmr - prev_mmr)
        tiers.append(MarginTier(float(floor), float(cap), float(max_lev), float(mmr), round(cum, 8)))
        prev_mmr = mmr
    return tuple(tiers)


def _check_tiers(tiers: tuple[MarginTier, ...], name: str) -> None:
    if not tiers:
        raise ConfigError(f"tier table {name} has no tiers; give at least one")
    if tiers[0].floor_usd != 0.0:
        raise ConfigError(f"tier table {name}: the first tier must start at 0")
    for a, b in zip(tiers, tiers[1:]):
        if a.cap_usd != b.floor_usd or b.mmr < a.mmr:
            raise ConfigError(f"tier table {name}: tiers must be contiguous with non-decreasing mmr")


def tiers_from_leverage_tiers(
    records: list[dict[str, Any]], *, size_scale: float = 1.0, open_ended: bool = True
) -> tuple[MarginTier, ...]:
    """Tiers from ccxt ``LeverageTier`` records, ``cum`` derived by :func:`build_tiers`.

    Parameters
    ----------
    records : list of dict
        ccxt ``fetch_market_leverage_tiers`` records: ``minNotional``, ``maxNotional``,
        ``maintenanceMarginRate``, ``maxLeverage`` (numbers or numeric strings; an empty or
        missing ``maxNotional`` means no cap). Any order; they are sorted by ``minNotional``.
    size_scale : float, default 1.0
        Factor applied to the bounds: ccxt gives OKX bounds in contracts, so pass the contract
        value (0.01 for BTC-USDT-SWAP) to get BTC.
    open_ended : bool, default True
        Extend the last tier to infinity (what a venue does beyond its last listed cap).

    Raises
    ------
    ConfigError
        No records, a missing or non-numeric field, or tiers that are not contiguous.

    Examples
    --------
    >>> recs = [{"minNotional": 0, "maxNotional": 1000, "maintenanceMarginRate": 0.004,
    ...          "maxLeverage": 100}]
    >>> t = tiers_from_leverage_tiers(recs, size_scale=0.01, open_ended=False)[0]
    >>> t.cap_usd, t.mmr
    (10.0, 0.004)
    """
    if not records:
        raise ConfigError("no leverage tiers given; pass the venue's LeverageTier records")
    rows = [_leverage_tier_row(rec, i, size_scale) for i, rec in enumerate(records)]
    rows.sort(key=lambda r: r[0])
    if open_ended:
        rows[-1] = (rows[-1][0], INF, rows[-1][2], rows[-1][3])
    tiers = build_tiers(tuple(rows))
    _check_tiers(tiers, "from leverage tiers")
    return tiers


def tiers_from_margin_table(margin_tiers: list[dict[str, Any]]) -> tuple[MarginTier, ...]:
    """Tiers from a Hyperliquid margin table's ``marginTiers`` (``meta`` info response).

    Each entry is ``{"lowerBound": "<USDC notional>", "maxLeverage": <int>}``; a tier runs to
    the next lower bound. Hyperliquid's rule: the maintenance margin rate is half the initial
    margin rate at the tier's maximum leverage, ``mmr = 1 / (2 * maxLeverage)``.

    Examples
    --------
    >>> mt = [{"lowerBound": "0.0", "maxLeverage": 40},
    ...       {"lowerBound": "150000000.0", "maxLeverage": 20}]
    >>> [(t.mmr, t.cum_usd) for t in tiers_from_margin_table(mt)]
    [(0.0125, 0.0), (0.025, 1875000.0)]
    """
    if not margin_tiers:
        raise ConfigError("empty margin table; pass meta's marginTiers list")
    floors = [_field(m, "lowerBound", i) for i, m in enumerate(margin_tiers)]
    levs = [_field(m, "maxLeverage", i) for i, m in enumerate(margin_tiers)]
    if any(b <= a for a, b in zip(floors, floors[1:])) or any(lev <= 0 for lev in levs):
        raise ConfigError("marginTiers must have ascending lowerBound (strictly increasing, no "
                          f"repeats) and maxLeverage > 0, got lowerBound {floors} and "
                          f"maxLeverage {levs}")
    caps = floors[1:] + [INF]
    rows = tuple((f, c, lev, 0.5 / lev) for f, c, lev in zip(floors, caps, levs))
    tiers = build_tiers(rows)
    _check_tiers(tiers, "from margin table")
    return tiers


def _leverage_tier_row(rec: dict[str, Any], i: int,
                       scale: float) -> tuple[float, float, float, float]:
    cap = rec.get("maxNotional") if isinstance(rec, dict) else None
    cap_v = INF if cap in (None, "") else _field(rec, "maxNotional", i) * scale
    return (_field(rec, "minNotional", i) * scale, cap_v, _field(rec, "maxLeverage", i),
            _field(rec, "maintenanceMarginRate", i))


def _field(rec: dict[str, Any], key: str, i: int) -> float:
    """``rec[key]`` as a finite float, or a :class:`ConfigError` naming the record."""
    try:
        val = float(rec[key])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(
            f"tier record {i}: field {key!r} missing or not a number ({rec!r})"
        ) from None
    if not math.isfinite(val) or val < 0:
        raise ConfigError(f"tier record {i}: {key} must be a finite number >= 0, got {val!r}")
    return val


# --------------------------------------------------------------------------- tables
# Rows are (floor, cap, max_leverage, mmr); cum is derived by build_tiers.

_BINANCE_2024 = TierTable(
    venue="binance",
    symbol="BTCUSDT",
    version="2024-10-24",
    source=(
        "Binance USDⓈ-M BTCUSDT leverage brackets, snapshot 2024-10-24, as tabulated in "
        "liqmap METHOD.md section 1 (notional USDT, max leverage, MMR, cum); cum column "
        "re-derived here from the recurrence and checked against it."
    ),
    tiers=build_tiers((
        (0, 50e3, 125, 0.004),
        (50e3, 600e3, 100, 0.005),
        (600e3, 3e6, 75, 0.0065),
        (3e6, 12e6, 50, 0.01),
        (12e6, 70e6, 25, 0.02),
        (70e6, 100e6, 20, 0.025),
        (100e6, 230e6, 10, 0.05),
        (230e6, 480e6, 5, 0.10),
        (480e6, 600e6, 4, 0.125),
        (600e6, 800e6, 3, 0.15),
        (800e6, 1.2e9, 2, 0.25),
        (1.2e9, INF, 1, 0.50),
    )),
)

_BINANCE_2021 = TierTable(
    venue="binance",
    symbol="BTCUSDT",
    version="2021-03-26",
    source=(
        "Binance USDⓈ-M BTCUSDT brackets of early 2021 (tighter than 2024): floors, caps and "
        "MMR from a public reverse-engineered calculator dated 2021-03-26 (Binance web-UI "
        "bracket data) and METHOD.md (50k-250k 0.5%, 250k-1M 1%, 1M-10M 2.5%); the Binance "
        "FAQ example 'Level 3 maintenance amount = 250,000 x (1% - 0.5%) + 50 = 1,300' agrees. "
        "Max leverage per bracket (125/100/50/20/10/5/4/3/2/1) NOT verified from docs. "
        "Last bracket (500M cap) extended to infinity."
    ),
    tiers=build_tiers((
        (0, 50e3, 125, 0.004),
        (50e3, 250e3, 100, 0.005),
        (250e3, 1e6, 50, 0.01),
        (1e6, 10e6, 20, 0.025),
        (10e6, 20e6, 10, 0.05),
        (20e6, 50e6, 5, 0.10),
        (50e6, 100e6, 4, 0.125),
        (100e6, 200e6, 3, 0.15),
        (200e6, 300e6, 2, 0.25),
        (300e6, INF, 1, 0.50),
    )),
)

_BINANCE_INVERSE = TierTable(
    venue="binance-inverse",
    symbol="BTCUSD_PERP",
    version="2021-02-05",
    source=(
        "Binance COIN-M BTCUSD_PERP brackets; NOTIONAL IN BTC (position value = contracts x "
        "100 USD / price), cum in BTC. Checked: Binance FAQ 'How to Calculate Liquidation "
        "Price of COIN-M Futures Contracts' (article 2021-02-05): a 300 BTC position has MMR "
        "12.5% and maintenance amount 11.605 BTC (reproduced by the recurrence here); bracket "
        "1 (0-5 BTC, 125x, 0.4%) as in a public /dapi/v2/leverageBracket fixture. All 10 "
        "caps and max leverages (5/10/20/50/100/200/400/1,000/1,500 BTC; 125/100/50/20/10/5/"
        "4/3/2/1x) verified (2026 check) against Binance FAQ 'Leverage and Margin in "
        "Coin-Margined Futures Contracts', BTCUSD Perpetual table (binance.com/zh-TC/support/"
        "faq/be2c7d9d95b04a7e8044ed02dd7dfe5c, revision carrying the 2021-07-27 new-user "
        "note). The FAQ gives initial margin only: MMRs of brackets 1-7 are checked jointly "
        "by the 11.605 BTC example (the FAQ's older 10/20/30 BTC layout gives the 11.81 BTC of "
        "the page's older version with the same MMRs); MMRs 15/25/50% of brackets 8-10 are "
        "NOT verified from docs. Exact start date of this layout unknown."
    ),
    tiers=build_tiers((
        (0, 5, 125, 0.004),
        (5, 10, 100, 0.005),
        (10, 20, 50, 0.01),
        (20, 50, 20, 0.025),
        (50, 100, 10, 0.05),
        (100, 200, 5, 0.10),
        (200, 400, 4, 0.125),
        (400, 1000, 3, 0.15),
        (1000, 1500, 2, 0.25),
        (1500, INF, 1, 0.50),
    )),
    contract_size=100.0,
    inverse=True,
    notional_unit="coin",
)

_BYBIT = TierTable(
    venue="bybit",
    symbol="BTCUSDT",
    version="2023-01-01",
    source=(
        "Bybit USDT perpetual BTCUSDT risk limits (base MMR 0.5%, METHOD.md). Tiers 1-3 "
        "(2M 0.5% IM 1% 100x; 4M 1% IM 1.75% 57.14x; 6M 1.5% IM 2.5% 40x) verified from a "
        "Bybit derivatives v3 risk-limit API response printed in a public SDK README (2023); "
        "the 10,000 USDT MM deduction of tier 2 agrees with another API fixture. Tiers 4-10 "
        "extrapolate the step rule (+2M, MMR +0.5%, IM +0.75%): NOT verified. Version date "
        "is a placeholder (snapshot date unknown); Bybit has changed BTCUSDT tiers since."
    ),
    tiers=build_tiers(tuple(
        (2e6 * (n - 1), 2e6 * n if n < 10 else INF, round(1.0 / (0.01 + 0.0075 * (n - 1)), 2),
         0.005 * n)
        for n in range(1, 11)
    )),
)

_OKX = TierTable(
    venue="okx",
    symbol="BTC-USDT-SWAP",
    version="2024-01-01",
    source=(
        "OKX BTC-USDT-SWAP position tiers: tier 1 only (mmr 0.4%, 100x, METHOD.md); contract "
        "value 0.01 BTC; tiers are set by size in contracts, stored here in BTC. The tier-1 "
        "size cap and all higher tiers are NOT verified (not found in docs), so tier 1 is applied "
        "to every size: very large positions get too low an MMR. Version date is a placeholder."
    ),
    tiers=build_tiers(((0, INF, 100, 0.004),)),
    contract_size=0.01,
    notional_unit="coin",
)

_HYPERLIQUID = TierTable(
    venue="hyperliquid",
    symbol="BTC",
    version="2025-01-01",
    source=(
        "Hyperliquid BTC margin table 'tiered 40x': 40x up to 150M USDC notional, 20x above "
        "(Hyperliquid docs 'Margin tiers'; meta marginTable 56 as listed by a public SDK on "
        "2026-09-27). Maintenance margin = half the initial margin at max leverage: MMR 1.25% "
        "then 2.5%, deduction by the recurrence. The start date is a placeholder: the table "
        "is verified in force in 2026 (it matches the 2026-02 whale positions check)."
    ),
    tiers=build_tiers(((0, 150e6, 40, 0.0125), (150e6, INF, 20, 0.025))),
    verified=True,
)

_OKX_2026 = TierTable(
    venue="okx",
    symbol="BTC-USDT-SWAP",
    version="2026-09-25",
    source=(
        "OKX BTC-USDT-SWAP tier 1 as recorded from the live venue on 2026-09-25: GET "
        "/api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily=BTC-USDT -> "
        "tier 1, minSz 0, maxSz 1,000 contracts (10 BTC at ctVal 0.01), mmr 0.004, imr 0.01, "
        "maxLever 100 (BYTEX-TRADE/bytex@134941fc, tests/Bytex.Adapters.Tests/Fixtures/"
        "OkxPayloads.cs; the same row answers a public Go client's position-tiers test). "
        "Tiers 2+ (above 1,000 contracts = 10 BTC) are NOT verified (no recording or doc "
        "found), so tier 1 is applied to every size: positions over 10 BTC get too low an MMR."
    ),
    tiers=build_tiers(((0, INF, 100, 0.004),)),
    contract_size=0.01,
    notional_unit="coin",
)

_TABLES: tuple[TierTable, ...] = (
    _BINANCE_2021,
    _BINANCE_2024,
    _BINANCE_INVERSE,
    _BYBIT,
    _OKX,
    _OKX_2026,
    _HYPERLIQUID,
    *(TierTable(**{k: v for k, v in r.items() if k != "rows"}, tiers=build_tiers(r["rows"]))
      for r in TABLE_ROWS),
)

_DEFAULT_SYMBOL = {
    "binance": "BTCUSDT",
    "binance-inverse": "BTCUSD_PERP",
    "bybit": "BTCUSDT",
    "okx": "BTC-USDT-SWAP",
    "hyperliquid": "BTC",
}

# ccxt unified symbols accepted as aliases of the venue-native ones
_CCXT_ALIASES = {
    ("binance-inverse", "BTC/USD:BTC"): "BTCUSD_PERP",
    **{(v, f"{c}/USDT:USDT"): f"{c}USDT" for v in ("binance", "bybit") for c in ("BTC", "ETH", "SOL")},
    **{("okx", f"{c}/USDT:USDT"): f"{c}-USDT-SWAP" for c in ("BTC", "ETH", "SOL")},
    **{("hyperliquid", f"{c}/USDC:USDC"): c for c in ("BTC", "ETH", "SOL")},
}
# any other coin's linear perpetual: ccxt ``C/Q:Q`` -> the venue's own spelling (the names
# ``liqmap tiers --refresh`` stores a fetched table under)
_LINEAR_NATIVE = {"binance": ("USDT", "{c}USDT"), "bybit": ("USDT", "{c}USDT"),
                  "okx": ("USDT", "{c}-USDT-SWAP"), "hyperliquid": ("USDC", "{c}")}


def _venue_symbol(venue: str, sym: str) -> str:
    """``sym`` in the venue's own spelling (a ccxt linear symbol converted; else as given).

    Hyperliquid spells some coins mixed-case (``kPEPE``): its coin keeps the case given.

    >>> _venue_symbol("okx", "DOGE/USDT:USDT"), _venue_symbol("bybit", "ETHUSDT")
    ('DOGE-USDT-SWAP', 'ETHUSDT')
    >>> _venue_symbol("hyperliquid", "kPEPE/USDC:USDC")
    'kPEPE'
    """
    known = _CCXT_ALIASES.get((venue, sym), _CCXT_ALIASES.get((venue, sym.upper())))
    if known is not None:
        return known
    quote, spelling = _LINEAR_NATIVE.get(venue, ("", ""))
    coin, _, rest = sym.partition("/")
    if quote and rest.upper() == f"{quote}:{quote}" and coin.isalnum():
        return spelling.format(c=coin if venue == "hyperliquid" else coin.upper())
    return sym


def _of_symbol(tables: Iterable[TierTable], venue: str, sym: str) -> list[TierTable]:
    """``venue``'s tables of ``sym``: its exact spelling, else the same ignoring case (a
    Hyperliquid coin such as ``kPEPE`` asked for as ``KPEPE``)."""
    same = [t for t in tables if t.venue == venue and t.symbol.upper() == sym.upper()]
    exact = [t for t in same if t.symbol == sym]
    return exact or same


def check_venue(venue: str) -> str:
    """Return ``venue`` if it is known, else raise :class:`ConfigError` listing the choices."""
    if venue not in VENUES:
        raise ConfigError(f"unknown venue {venue!r}; use one of: {', '.join(VENUES)}")
    return venue


def max_leverage(venue: str, notional: float | None = None, *,
                 table: TierTable | None = None) -> float:
    """Highest initial leverage ``venue`` allows: in its first tier, or for a position of
    ``notional`` (in the table's ``notional_unit``) in the tier holding it.

    Examples
    --------
    >>> max_leverage("binance"), max_leverage("binance", 1e6), max_leverage("hyperliquid")
    (125.0, 75.0, 40.0)
    """
    tbl = _table_for(venue, table)
    tier = tbl.tiers[0] if notional is None else tbl.tier_for(notional)
    return float(tier.max_leverage)


def _table_for(venue: str, table: TierTable | None) -> TierTable:
    check_venue(venue)
    if table is None:
        return get_tier_table(venue)
    if table.venue != venue:
        raise ConfigError(f"tier table is for {table.venue!r}, not {venue!r}; pass a {venue} table")
    return table


def list_tier_tables() -> list[TierTable]:
    """All shipped tables, ordered by venue, symbol and version."""
    return sorted(_TABLES, key=lambda t: (VENUES.index(t.venue), t.symbol, t.version))


def tier_symbols(venue: str) -> list[str]:
    """Venue-native symbols with a shipped table on ``venue``.

    >>> tier_symbols("hyperliquid")
    ['BTC', 'ETH', 'SOL']
    """
    check_venue(venue)
    return sorted({t.symbol for t in _TABLES if t.venue == venue})


def get_tier_table(venue: str, symbol: str | None = None, version: str | None = None, *,
                   stored: Iterable[TierTable] = ()) -> TierTable:
    """The tier table of ``venue``/``symbol`` in force at ``version``.

    Parameters
    ----------
    venue : str
        One of :data:`VENUES`.
    symbol : str, optional
        Venue-native or ccxt symbol; default the venue's BTC perpetual.
    version : str, optional
        ISO date ``YYYY-MM-DD``: the newest table whose version is on or before it.
        Default: the latest table.
    stored : iterable of TierTable, optional
        Tables fetched from the venue (``DuckDBStore.read_tier_tables``), looked up with the
        shipped ones; on the same version a stored table wins over a shipped one.

    Raises
    ------
    ConfigError
        Unknown venue or symbol, or a date before the earliest shipped table.

    Examples
    --------
    >>> get_tier_table("binance", version="2023-06-30").version
    '2021-03-26'
    """
    check_venue(venue)
    sym = symbol if symbol is not None else _DEFAULT_SYMBOL[venue]
    sym = _venue_symbol(venue, sym)
    tables = _of_symbol([*list_tier_tables(), *stored], venue, sym)
    tables = sorted(tables, key=lambda t: t.version)  # stable: stored after shipped
    if not tables:
        known = ", ".join(tier_symbols(venue))
        why = MISSING.get((venue, sym.upper()))
        hint = f" (not shipped: no recorded venue answer; needs {why})" if why else ""
        raise ConfigError(f"no tier table for {venue} {sym!r}{hint}; shipped symbols: {known}")
    if version is None:
        return tables[-1]
    check_version(version)
    in_force = [t for t in tables if t.version <= version]
    if not in_force:
        have = ", ".join(t.version for t in tables)
        raise ConfigError(
            f"no {venue} {sym} tier table in force on {version}; shipped versions: {have}"
        )
    return in_force[-1]


def check_version(version: str) -> None:
    """ConfigError unless ``version`` is a calendar date ``YYYY-MM-DD``."""
    parts = version.split("-") if isinstance(version, str) else []
    ok = (len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts)
          and [len(p) for p in parts] == [4, 2, 2])
    if ok:
        try:
            date.fromisoformat(version)
        except ValueError:
            ok = False
    if not ok:
        raise ConfigError(f"table version must be an ISO date YYYY-MM-DD, got {version!r}")

"""Open-interest units: conversion to base units and the wrong-unit plausibility checks.

``Bars.open_interest`` is always in base units (BTC for BTCUSDT). Sources give it in base
units, in USD (quote) notional, or in contracts; :func:`convert_oi_to_base` converts and
:func:`check_oi_unit` rejects values whose size does not fit the declared unit:

1. any market: notional ``open_interest x close`` below :data:`MAX_OI_NOTIONAL_USD`, and
   open interest within :data:`OI_DAYS_OF_VOLUME` days of the file's own volume (these
   catch a price-sized factor: USD given as base, or base declared as USD);
2. a market of :data:`OI_PLAUSIBLE_USD` (venue and base asset, e.g. Binance BTC): notional
   within that venue's plausible range, and, for files of a day or more with volume, OI
   within :data:`OI_DAYS_OF_VOLUME_MARKET` days of volume (these catch a contract-size
   factor: OKX contracts of 0.01 BTC given as base units are 100x too large).

Every refusal says which unit flag fixes it (``--oi-unit usd``, ``--oi-unit contracts
--contract-size 0.01``, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.io._frame import _bar_ms, _first, _show, _where
from liqmap.timeutil import MS_PER_DAY

__all__ = ["MAX_OI_NOTIONAL_USD", "OI_DAYS_OF_VOLUME", "OI_DAYS_OF_VOLUME_MARKET",
           "OI_PLAUSIBLE_USD", "OI_UNITS", "PlausibleOI", "check_oi_unit",
           "convert_oi_to_base", "market_base"]

OI_UNITS = ("base", "usd", "contracts")

#: Open interest notional above this is implausible for any single market: it exceeds
#: the open interest of all crypto derivatives combined. Base-unit OI that multiplies
#: with price to more than this is almost surely USD given as base.
MAX_OI_NOTIONAL_USD = 1e12

#: Plausible open interest of any market, in days of its own traded volume (median OI
#: over median volume per bar). Wide on purpose: it must hold for every market and for
#: files of a few bars (Binance BTCUSDT one-hour windows range 0.08-10.7 days); outside it
#: the unit is wrong by a price-sized factor (USD as base: ~price x too much).
OI_DAYS_OF_VOLUME = (0.01, 1000.0)

#: Plausible open interest of a market of :data:`OI_PLAUSIBLE_USD`, in days of its volume
#: per UTC day (median OI over the median day), for files spanning a day or more. Real
#: one-day windows: Binance BTCUSDT 2025-12 0.30-3.4 days, Hyperliquid BTC 2026-06
#: 0.67-2.1 (a recording that misses trades, so if anything too high); a whole month
#: 0.65 (Binance). A 100x unit slip on a market holding 0.2 days or more falls out.
OI_DAYS_OF_VOLUME_MARKET = (0.01, 20.0)


@dataclass(frozen=True, slots=True)
class PlausibleOI:
    """Plausible open-interest notional (USD) of one perpetual market on one venue.

    ``min_usd``/``max_usd`` bound the file's median ``open_interest x close``;
    ``typical_usd`` sizes the factor a wrong unit is off by (for the hint);
    ``contract_size`` is the base units per contract where the venue sizes OI in
    contracts (for the hint); ``evidence`` says where the numbers come from.
    """

    min_usd: float
    max_usd: float
    typical_usd: float
    contract_size: float | None = None
    evidence: str = ""


#: One BTC perpetual market per venue (``"*"``: any other venue), USD notional of the
#: file's median open interest. Upper bounds are about 5x the largest value observed and
#: below 100x the smallest, so a 100x unit slip falls out on every day of the evidence
#: (checked: Coinalyze daily OI of each named venue, 2022-2024). The floor, 1e6 USD, only
#: catches values a price-sized factor too small (base units declared as USD).
OI_PLAUSIBLE_USD: dict[tuple[str, str], PlausibleOI] = {
    ("binance", "BTC"): PlausibleOI(
        1e6, 6e10, 5e9, None, "BTCUSDT 1.6-6.0e9 (Coinalyze daily 2022-2024), 5.1-9.5e9 "
        "(Binance metrics 2025-12 to 2026-06), ~120k BTC ~1.2e10 at the 2025 peak; COIN-M "
        "BTCUSD 0.3-1.8e9"),
    ("binance-inverse", "BTC"): PlausibleOI(
        1e6, 2e10, 6e8, None, "COIN-M BTCUSD 0.3-1.8e9 (Coinalyze daily 2022-2024)"),
    ("bybit", "BTC"): PlausibleOI(
        1e6, 2e10, 1.5e9, None, "BTCUSDT 0.58-4.7e9, BTCUSD 0.31-1.3e9 (Coinalyze daily "
        "2022-2024)"),
    ("okx", "BTC"): PlausibleOI(
        1e6, 1.5e10, 8e8, 0.01, "BTC-USDT-SWAP 0.28-2.0e9, BTC-USD-SWAP 0.2-1.0e9 "
        "(Coinalyze daily 2022-2024); BTC-USDT-SWAP contracts are 0.01 BTC (OKX "
        "instruments ctVal)"),
    ("hyperliquid", "BTC"): PlausibleOI(
        1e6, 3e10, 2e9, None, "BTC 1.9-2.2e9 (Hyperliquid asset contexts 2026-06); 7-16% "
        "of BTC perp OI (METHOD.md section 5)"),
    ("*", "BTC"): PlausibleOI(
        0.0, 1e11, 1e9, None, "all BTC futures OI combined peaked near 8e10 (2025, METHOD.md "
        "section 5): no one market holds more"),
}

_VENUE_ALIASES = {"binanceusdm": "binance", "binancecoinm": "binance-inverse", "okex": "okx"}
_TYPICAL_DAYS = 1.0  # open interest is about one day of volume (see OI_DAYS_OF_VOLUME_MARKET)
_VOLUME_HINT = ("; or, if open interest is right, volume is not in base units (divide USD "
                "volume by close)")


def convert_oi_to_base(oi: np.ndarray, close: np.ndarray, *, oi_unit: str = "base",
                       contract_size: float | None = None) -> np.ndarray:
    """Open interest in base units from ``"base"``, ``"usd"`` or ``"contracts"``.

    USD is divided by the bar's close (OI is at bar close); contracts are multiplied by
    ``contract_size`` (base units per contract, required for that unit).

    Examples
    --------
    >>> convert_oi_to_base(np.array([9e9]), np.array([90_000.0]), oi_unit="usd")
    array([100000.])
    """
    oi = np.asarray(oi, dtype=np.float64)
    if oi_unit == "base":
        return oi
    if oi_unit == "usd":
        return oi / np.asarray(close, dtype=np.float64)
    if oi_unit == "contracts":
        if contract_size is None or not contract_size > 0:
            raise ConfigError(
                "oi_unit='contracts' needs contract_size (base units per contract, "
                "e.g. 0.001 for a 0.001 BTC contract); pass contract_size=..."
            )
        return oi * float(contract_size)
    raise ConfigError(f"oi_unit must be one of {OI_UNITS}, got {_show(oi_unit)}")


def market_base(symbol: str) -> str:
    """The base asset of a ccxt or venue-native symbol (``XBT`` read as ``BTC``).

    Examples
    --------
    >>> [market_base(s) for s in ("BTC/USDT:USDT", "BTCUSD_PERP", "BTC-USDT-SWAP", "ETHUSDT")]
    ['BTC', 'BTC', 'BTC', 'ETH']
    """
    s = symbol.upper().replace("XBT", "BTC")
    if "/" in s:
        return s.split("/")[0]
    head = s.replace("_", "-").replace(":", "-").split("-")[0]
    for quote in ("USDT", "USDC", "USD"):
        if head.endswith(quote) and len(head) > len(quote):
            return head[: -len(quote)]
    return head


def _plausible(venue: str | None, symbol: str | None) -> tuple[str, PlausibleOI] | None:
    """``(label, range)`` of the market, or None when the base asset is not in the table."""
    if not venue or not symbol:
        return None
    v = _VENUE_ALIASES.get(venue.lower(), venue.lower())
    base = market_base(symbol)
    rng = OI_PLAUSIBLE_USD.get((v, base)) or OI_PLAUSIBLE_USD.get(("*", base))
    return None if rng is None else (f"{base} on {v}", rng)


def _flag(oi_unit: str, size: float | None = None) -> str:
    if oi_unit == "contracts" and size is None:
        return ("--oi-unit contracts --contract-size SIZE (oi_unit='contracts', "
                "contract_size=SIZE; SIZE = coins per contract, e.g. 0.01 on OKX "
                "BTC-USDT-SWAP)")
    if oi_unit == "contracts":
        return (f"--oi-unit contracts --contract-size {size:g} (oi_unit='contracts', "
                f"contract_size={size:g})")
    return f"--oi-unit {oi_unit} (oi_unit='{oi_unit}')"


def _unit_hint(oi_unit: str, factor: float, price: float,
               venue_size: float | None = None) -> str:
    """Which flag fixes OI that is ``factor`` times too large (>1) or too small (<1).

    ``factor`` tells a price-sized slip (USD vs base) from a smaller one (contracts); it
    is not precise enough to name a contract size (real OI spans 0.3-3.4 days of volume),
    so a size is named only where the market's own is known (``venue_size``).
    """
    k = math.log10(factor) if factor > 0 else -math.inf
    near_price = abs(abs(k) - math.log10(max(price, 1.0))) < 1.0
    if factor > 1 and oi_unit == "base":
        if near_price:
            return f"it looks like USD notional: pass {_flag('usd')}"
        return f"it looks like contracts: pass {_flag('contracts', venue_size)}"
    if oi_unit == "usd" and factor < 1 and near_price:
        return f"it looks like base units already: pass {_flag('base')}"
    if oi_unit == "contracts":
        return ("check contract_size (--contract-size, base units per contract): the "
                f"converted values are about {factor:.3g}x what the market holds; try "
                f"{_flag('contracts', venue_size)}")
    others = ", ".join(_flag(u) for u in ("base", "usd") if u != oi_unit)
    return (f"check the unit (about {factor:.3g}x off): pass {others}, or --oi-unit "
            "contracts with --contract-size")


def _days_of_volume(frame: pd.DataFrame) -> float | None:
    """Median OI over median volume per bar, in days of volume (None without volume)."""
    if "volume" not in frame or len(frame) < 2:
        return None
    bar_ms = _bar_ms(frame["ts_ms"].to_numpy())
    vol = float(np.median(frame["volume"].to_numpy()))
    if bar_ms <= 0 or vol <= 0:
        return None
    return float(np.median(frame["open_interest"].to_numpy())) / (vol * MS_PER_DAY / bar_ms)


def _days_of_daily_volume(frame: pd.DataFrame) -> float | None:
    """Median OI over the median UTC day's volume (partial days scaled to a full day).

    None without volume or for files spanning less than a day (too noisy to judge).
    """
    if "volume" not in frame or len(frame) < 2:
        return None
    ts = frame["ts_ms"].to_numpy()
    bar_ms = _bar_ms(ts)
    if bar_ms <= 0 or int(ts[-1]) - int(ts[0]) + bar_ms < MS_PER_DAY:
        return None
    per_bar = frame["volume"].groupby(ts // MS_PER_DAY).mean().to_numpy()
    daily = per_bar * (MS_PER_DAY / min(bar_ms, MS_PER_DAY))
    daily = daily[daily > 0]
    if daily.size == 0:
        return None
    return float(np.median(frame["open_interest"].to_numpy())) / float(np.median(daily))


def check_oi_unit(frame: pd.DataFrame, *, source: str, oi_unit: str = "base",
                  venue: str | None = None, symbol: str | None = None) -> None:
    """Reject open interest whose size is implausible for the declared unit.

    ``frame["open_interest"]`` must already be in base units. See the module docstring
    for the checks; ``venue``/``symbol`` select the market's plausible range (unknown
    markets get the volume cross-check only).

    Raises
    ------
    DataError
        Naming the file, the measured size, the plausible range and the unit flag.
    """
    if len(frame) == 0:
        return
    _check_any_market(frame, source, oi_unit)
    market = _plausible(venue, symbol)
    if market is not None:
        _check_market(frame, source, oi_unit, *market)


def _check_any_market(frame: pd.DataFrame, source: str, oi_unit: str) -> None:
    oi = frame["open_interest"].to_numpy()
    price = float(np.median(frame["close"].to_numpy()))
    notional = oi * frame["close"].to_numpy()
    median = float(np.median(notional))
    days, daily = _days_of_volume(frame), _days_of_daily_volume(frame)
    if median > MAX_OI_NOTIONAL_USD:
        factor = (daily or days or price * _TYPICAL_DAYS) / _TYPICAL_DAYS
        raise DataError(
            f"open interest is implausibly large: median open_interest x close = "
            f"{median:.3g} USD, above {MAX_OI_NOTIONAL_USD:.0e} USD; "
            + _unit_hint(oi_unit, factor, price),
            **_where(frame, _first(notional > MAX_OI_NOTIONAL_USD) or 0, source),
        )
    lo, hi = OI_DAYS_OF_VOLUME
    if days is not None and not lo <= days <= hi:
        raise DataError(
            f"open interest is {days:.3g} days of traded volume (median OI "
            f"{np.median(oi):.6g} base units), outside the plausible {lo:g}-{hi:g} days; "
            + _unit_hint(oi_unit, days / _TYPICAL_DAYS, price)
            + (_VOLUME_HINT if days < lo else ""),
            **_where(frame, 0, source),
        )


def _check_market(frame: pd.DataFrame, source: str, oi_unit: str, label: str,
                  rng: PlausibleOI) -> None:
    price = float(np.median(frame["close"].to_numpy()))
    median = float(np.median(frame["open_interest"].to_numpy() * frame["close"].to_numpy()))
    days = _days_of_daily_volume(frame)
    if not rng.min_usd <= median <= rng.max_usd:
        factor = median / rng.typical_usd
        raise DataError(
            f"open interest is implausible for {label}: median open_interest x close = "
            f"{median:.3g} USD, outside the plausible {rng.min_usd:.2g}-{rng.max_usd:.2g} USD "
            f"of one market (observed: {rng.evidence}); "
            + _unit_hint(oi_unit, factor, price, rng.contract_size if factor > 1 else None),
            **_where(frame, 0, source),
        )
    lo, hi = OI_DAYS_OF_VOLUME_MARKET
    if rng.min_usd > 0 and days is not None and not lo <= days <= hi:
        raise DataError(
            f"open interest is {days:.3g} days of the file's daily volume (median OI "
            f"{np.median(frame['open_interest'].to_numpy()):.6g} base units), outside the "
            f"plausible {lo:g}-{hi:g} days for {label}; the OI or the volume is in the "
            "wrong unit: "
            + _unit_hint(oi_unit, days / _TYPICAL_DAYS, price,
                         rng.contract_size if days > hi else None)
            + (_VOLUME_HINT if days < lo else ""),
            **_where(frame, 0, source),
        )

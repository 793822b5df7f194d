"""Open-interest units: conversion to base units and the wrong-unit plausibility check.

``Bars.open_interest`` is always in base units (BTC for BTCUSDT). Sources give it in base
units, in USD (quote) notional, or in contracts; :func:`convert_oi_to_base` converts and
:func:`check_oi_unit` rejects values whose size does not fit the declared unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.io._frame import _bar_ms, _first, _show, _where

__all__ = ["MAX_OI_NOTIONAL_USD", "OI_DAYS_OF_VOLUME", "OI_UNITS", "check_oi_unit",
           "convert_oi_to_base"]

OI_UNITS = ("base", "usd", "contracts")

#: Open interest notional above this is implausible for any single market: it exceeds
#: the open interest of all crypto derivatives combined. Base-unit OI that multiplies
#: with price to more than this is almost surely USD given as base.
MAX_OI_NOTIONAL_USD = 1e12

#: Plausible open interest, in days of the market's own traded volume (perpetuals hold
#: roughly 0.3-10 days). Outside this range the OI unit is almost surely wrong: USD as
#: base gives ~price x too much, base as USD ~price x too little.
OI_DAYS_OF_VOLUME = (0.01, 1000.0)

_DAY_MS = 86_400_000


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


def _oi_unit_fix(oi_unit: str, too_big: bool) -> str:
    if too_big and oi_unit == "base":
        return "it looks like USD notional: pass oi_unit='usd' (or convert to base units)"
    if too_big:
        return "check oi_unit and contract_size: the converted values are far too large"
    if oi_unit == "usd":
        return "it looks like base units already: pass oi_unit='base'"
    if oi_unit == "contracts":
        return "check contract_size (base units per contract)"
    return "check the unit: pass oi_unit='contracts' with contract_size, or fix the column"


def check_oi_unit(frame: pd.DataFrame, *, source: str, oi_unit: str = "base") -> None:
    """Reject open interest whose size is implausible for the declared unit.

    ``frame["open_interest"]`` must already be in base units. Two checks on medians:

    1. notional ``open_interest x close`` must stay below :data:`MAX_OI_NOTIONAL_USD`;
       USD given as base multiplies by the price a second time (BTC: ~1e14 USD).
    2. with a ``volume`` column, OI must equal :data:`OI_DAYS_OF_VOLUME` days of the
       market's own volume; a unit mix-up shifts this by a factor of about the price.
    """
    oi = frame["open_interest"].to_numpy()
    close = frame["close"].to_numpy()
    if oi.size == 0:
        return
    notional = oi * close
    if np.median(notional) > MAX_OI_NOTIONAL_USD:
        pos = _first(notional > MAX_OI_NOTIONAL_USD) or 0
        raise DataError(
            f"open interest is implausibly large: median open_interest x close = "
            f"{np.median(notional):.3g} USD, above {MAX_OI_NOTIONAL_USD:.0e} USD; "
            + _oi_unit_fix(oi_unit, True),
            **_where(frame, pos, source),
        )
    days = _days_of_volume(frame)
    if days is None:
        return
    lo, hi = OI_DAYS_OF_VOLUME
    if not lo <= days <= hi:
        raise DataError(
            f"open interest is {days:.3g} days of traded volume (median OI "
            f"{np.median(oi):.6g} base units), outside the plausible {lo:g}-{hi:g} days; "
            + _oi_unit_fix(oi_unit, days > hi),
            **_where(frame, 0, source),
        )


def _days_of_volume(frame: pd.DataFrame) -> float | None:
    if "volume" not in frame or len(frame) < 2:
        return None
    bar_ms = _bar_ms(frame["ts_ms"].to_numpy())
    vol = float(np.median(frame["volume"].to_numpy()))
    if bar_ms <= 0 or vol <= 0:
        return None
    return float(np.median(frame["open_interest"].to_numpy())) / (vol * _DAY_MS / bar_ms)

"""Binance archive days into a store: one ``write_bars`` and one ``write_realized`` per day.

A day's bars need its klines and metrics CSVs (open interest is required by ``Bars``);
funding is attached when fundingRate files are there. A day whose files are missing is
left out (and counted nowhere: the archive report already lists the missing files); a day
whose files do not load is reported as failed, and the other days still go in.
"""

from __future__ import annotations

import re
from collections import defaultdict

from liqmap._exceptions import LiqmapError
from liqmap.io.binance import load_binance_bars
from liqmap.io.binance_liquidations import load_liquidation_snapshot
from liqmap.venues.binance_archive import ArchiveFile, BinanceArchive

__all__ = ["ccxt_symbol", "store_archive_days"]

#: USD value of one COIN-M contract: 100 for BTCUSD_PERP, 10 for the others.
_CM_CONTRACT_USD = {"BTC": 100.0}


def ccxt_symbol(market: str, ident: str) -> str:
    """ccxt unified symbol of an archive id.

    Examples
    --------
    >>> ccxt_symbol("um", "BTCUSDT"), ccxt_symbol("cm", "BTCUSD_PERP")
    ('BTC/USDT:USDT', 'BTC/USD:BTC')
    """
    if market == "cm":
        base = ident.split("_")[0][:-3]
        return f"{base}/USD:{base}"
    m = re.fullmatch(r"(.+?)(USDT|USDC|BUSD)", ident)
    if not m:
        return ident
    return f"{m.group(1)}/{m.group(2)}:{m.group(2)}"


def _present(archive: BinanceArchive, files: list[ArchiveFile]) -> dict[str, dict[str, str]]:
    by_day: dict[str, dict[str, str]] = defaultdict(dict)
    for f in files:
        csv = archive.local_csv(f)
        if csv.is_file() and archive.manifest.is_complete(archive.local_zip(f)):
            by_day[f.period][f.dataset] = str(csv)
    return by_day


def store_archive_days(archive: BinanceArchive, files: list[ArchiveFile], store, tally) -> None:
    """Write every complete day of ``files`` to ``store`` (see the module docstring)."""
    if not files:
        return
    market, ident = files[0].market, files[0].symbol
    symbol = ccxt_symbol(market, ident)
    by_period = _present(archive, files)
    funding = sorted(p["fundingRate"] for k, p in by_period.items()
                     if len(k) == 7 and "fundingRate" in p)
    for day in sorted(k for k in by_period if len(k) == 10):
        have = by_period[day]
        klines = next((have[k] for k in sorted(have) if k.startswith("klines-")), None)
        try:
            if klines and "metrics" in have:
                bars = load_binance_bars(klines, have["metrics"], funding or None,
                                         symbol=symbol, venue="binance")
                tally.stored_bars += int(store.write_bars(bars))
            if "liquidationSnapshot" in have:
                cv = _CM_CONTRACT_USD.get(ident.split("USD")[0], 10.0) if market == "cm" else None
                liq = load_liquidation_snapshot(have["liquidationSnapshot"], symbol=symbol,
                                                venue="binance", contract_value_usd=cv)
                tally.stored_realized += int(store.write_realized(liq))
        except LiqmapError as exc:
            tally.failed.append((f"store {day}", str(exc)))

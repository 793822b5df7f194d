"""ccxt venue history into one file per venue, symbol, dataset and UTC day.

Layout under the output root (``<id>`` is the venue's market id, e.g. ``BTCUSDT``)::

    <venue>/<id>/bars-5m/2025-12-01.parquet        fetch_ohlcv + open interest (+ funding),
                                                  liqmap's bar layout (liqmap.io.load_bars)
    <venue>/<id>/ohlcv-5m/2025-12-01.parquet       fetch_ohlcv alone (no open interest asked)
    <venue>/<id>/open_interest-5m/2025-12-01.csv   ts_ms, open_interest_amount (venue units),
                                                  open_interest_base (coins), open_interest_value
    <venue>/<id>/funding/2025-12-01.csv            ts_ms, funding_rate, funding_interval_h
    <venue>/<id>/liquidations/2025-12-01.parquet   RealizedLiquidations columns
    <venue>/<id>/leverage_tiers/<fetch day>.json   ccxt LeverageTier records

A day is recorded in the manifest (and so skipped next time) only once it has ended;
the current day is fetched again on the next run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, InputError, LiqmapError
from liqmap.core.bars import Bars
from liqmap.io.generic import load_bars
from liqmap.timeutil import MS_PER_DAY, utc_date
from liqmap.venues._shared.ccxt_records import bars_from_ccxt, liquidations_from_ccxt
from liqmap.venues._shared.files import Manifest, atomic_path, sha256_file
from liqmap.venues.ccxt_history import CcxtHistory

__all__ = ["DATASET_KINDS", "CcxtDays", "bars_frame"]

_NEEDS = {"open_interest": "fetchOpenInterestHistory", "funding": "fetchFundingRateHistory",
          "liquidations": "fetchLiquidations"}
#: Every dataset spelling ``download`` accepts besides bars (archive and ccxt names) -> kind.
DATASET_KINDS = {"metrics": "open_interest", "open_interest": "open_interest",
                 "fundingRate": "funding", "funding": "funding",
                 "liquidationSnapshot": "liquidations", "liquidations": "liquidations",
                 "leverageTiers": "leverage_tiers", "leverage_tiers": "leverage_tiers"}


def bars_frame(bars: Bars) -> pd.DataFrame:
    """``Bars`` as a frame in liqmap's documented bar layout (readable by ``load_bars``)."""
    cols = {"ts_ms": bars.ts_ms, "open": bars.open, "high": bars.high, "low": bars.low,
            "close": bars.close, "volume": bars.volume, "open_interest": bars.open_interest,
            "taker_buy_volume": bars.taker_buy_volume, "taker_delta": bars.taker_delta,
            "funding_rate": bars.funding_rate}
    return pd.DataFrame({k: v for k, v in cols.items() if v is not None})


def _day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


class CcxtDays:
    """Fetch and write the requested datasets of one ccxt venue and symbol, day by day."""

    def __init__(self, hist: CcxtHistory, symbol: str, datasets: list[str], out: Path,
                 manifest: Manifest, *, now_ms: int | None = None):
        self.hist, self.symbol, self.out, self.manifest = hist, symbol, Path(out), manifest
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        tfs = [d.split("-", 1)[1] for d in datasets if d.startswith(("klines-", "ohlcv-"))]
        if len(tfs) > 1:
            raise ConfigError(f"one bar timeframe per run, got {tfs}; run once per timeframe")
        self.timeframe = tfs[0] if tfs else None
        self.kinds = {DATASET_KINDS[d] for d in datasets if d in DATASET_KINDS}
        self._check_capabilities()

    def _check_capabilities(self) -> None:
        needs = [_NEEDS[k] for k in self.kinds if k in _NEEDS]
        if self.timeframe:
            needs.append("fetchOHLCV")
            if self.timeframe not in (self.hist.exchange.timeframes or {}):
                raise ConfigError(f"{self.hist.venue} has no {self.timeframe} bars; use one "
                                  f"of {', '.join(self.hist.exchange.timeframes or {})}")
        if "leverage_tiers" in self.kinds and not (self.hist.has("fetchMarketLeverageTiers")
                                                   or self.hist.has("fetchLeverageTiers")):
            needs.append("fetchLeverageTiers")
        missing = [n for n in needs if not self.hist.has(n)]
        if missing:
            raise InputError(f"{self.hist.venue} offers no {', '.join(missing)} through ccxt; "
                             "drop those datasets for this venue")

    @property
    def oi_timeframe(self) -> str:
        """Open-interest step: the bar timeframe, but at least 5m (venues have no 1m OI)."""
        return "5m" if self.timeframe in (None, "1m", "3m") else self.timeframe

    def _bar_timeframe(self) -> str:
        """The bar timeframe (bars are fetched only when a bar dataset named one)."""
        if self.timeframe is None:
            raise ConfigError("no bar timeframe: request a klines-<tf> or ohlcv-<tf> dataset")
        return self.timeframe

    def outputs(self, day: date) -> dict[str, Path]:
        """Files of ``day`` for the requested datasets."""
        root, d = self.root, day.isoformat()
        out = {}
        if self.timeframe:
            kind = "bars" if "open_interest" in self.kinds else "ohlcv"
            out[kind] = root / f"{kind}-{self.timeframe}" / f"{d}.parquet"
        if "open_interest" in self.kinds:
            out["open_interest"] = root / f"open_interest-{self.oi_timeframe}" / f"{d}.csv"
        if "funding" in self.kinds:
            out["funding"] = root / "funding" / f"{d}.csv"
        if "liquidations" in self.kinds:
            out["liquidations"] = root / "liquidations" / f"{d}.parquet"
        return out

    def run(self, first: date, last: date, tally, *, progress: Callable | None = None,
            store=None) -> None:
        """Fetch every day of ``first..last`` (inclusive) that is not complete on disk."""
        market = self.hist.market(self.symbol)
        self.root = self.out / self.hist.venue / str(market["id"]).replace("/", "-")
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        total = sum(len(self.outputs(d)) for d in days) + ("leverage_tiers" in self.kinds)
        done = 0
        for day in days:
            outs = self.outputs(day)
            try:
                self._day(day, outs, tally, store)
            except LiqmapError as exc:
                tally.failed.extend((self._rel(p), str(exc)) for p in outs.values()
                                    if not self.manifest.is_complete(p))
            done += len(outs)
            if progress:
                progress(done, total, day.isoformat())
        if "leverage_tiers" in self.kinds:
            self._tiers(tally)
            if progress:
                progress(total, total, "leverage tiers")

    def _rel(self, path: Path) -> str:
        return Path(path).relative_to(self.out).as_posix()

    def _day(self, day: date, outs: dict[str, Path], tally, store) -> None:
        start, end = _day_ms(day), _day_ms(day) + MS_PER_DAY
        pending = {k: p for k, p in outs.items() if not self.manifest.is_complete(p)}
        tally.skipped.extend(self._rel(p) for k, p in outs.items() if k not in pending)
        cache: dict[str, object] = {}
        for kind, path in pending.items():
            frame = getattr(self, f"_frame_{kind}")(start, end, cache)
            if frame is None:
                tally.missing.append(self._rel(path))
                continue
            self._write(frame, path, complete=end <= self.now_ms)
            tally.fetched.append(self._rel(path))
            tally.bytes += path.stat().st_size
        if store is not None:
            self._store(outs, cache, store, tally)

    def _write(self, frame: pd.DataFrame, path: Path, *, complete: bool) -> None:
        with atomic_path(path) as tmp:
            if path.suffix == ".parquet":
                frame.to_parquet(tmp, engine="pyarrow", index=False)
            else:
                frame.to_csv(tmp, index=False)
        if complete:
            self.manifest.record(path, sha256_file(path))

    # -- raw series, fetched once per day ---------------------------------------------
    def _series(self, name: str, start: int, end: int, cache: dict):
        if name not in cache:
            h, s = self.hist, self.symbol
            oi_step = h.exchange.parse_timeframe(self.oi_timeframe) * 1000
            cache[name] = {
                "ohlcv": lambda: h.fetch_ohlcv(s, self._bar_timeframe(), start, end),
                "oi": lambda: h.fetch_open_interest_history(s, self.oi_timeframe,
                                                            start - oi_step, end + oi_step),
                "funding": lambda: h.fetch_funding_rate_history(s, start - MS_PER_DAY, end),
                "liquidations": lambda: h.fetch_liquidations(s, start, end),
            }[name]()
        return cache[name]

    def _frame_bars(self, start: int, end: int, cache: dict) -> pd.DataFrame | None:
        ohlcv = self._series("ohlcv", start, end, cache)
        if not ohlcv:
            return None
        funding = self._series("funding", start, end, cache) if "funding" in self.kinds else None
        market = self.hist.market(self.symbol)
        bars = bars_from_ccxt(ohlcv, self._series("oi", start, end, cache), funding,
                              contract_size=float(market.get("contractSize") or 1.0),
                              funding_interval_h=self.hist.funding_interval_h(self.symbol),
                              venue=self.hist.venue, symbol=self.symbol, gaps="ignore")
        cache["bars"] = bars
        return bars_frame(bars)

    def _frame_ohlcv(self, start: int, end: int, cache: dict) -> pd.DataFrame | None:
        rows = self._series("ohlcv", start, end, cache)
        if not rows:
            return None
        return pd.DataFrame([list(r[:6]) for r in rows],
                            columns=["ts_ms", "open", "high", "low", "close", "volume"])

    def _frame_open_interest(self, start: int, end: int, cache: dict) -> pd.DataFrame | None:
        recs = [r for r in self._series("oi", start, end, cache) if start <= r["timestamp"] < end]
        if not recs:
            return None
        size = float(self.hist.market(self.symbol).get("contractSize") or 1.0)
        amount = pd.to_numeric(pd.Series([r.get("openInterestAmount") for r in recs]))
        return pd.DataFrame({"ts_ms": [int(r["timestamp"]) for r in recs],
                             "open_interest_amount": amount,  # as the venue reports it
                             "open_interest_base": amount * size,  # coins (x contract size)
                             "open_interest_value": [r.get("openInterestValue") for r in recs]})

    def _frame_funding(self, start: int, end: int, cache: dict) -> pd.DataFrame | None:
        recs = [r for r in self._series("funding", start, end, cache)
                if start <= r["timestamp"] < end]
        if not recs:
            return None
        return pd.DataFrame({"ts_ms": [int(r["timestamp"]) for r in recs],
                             "funding_rate": [r.get("fundingRate") for r in recs],
                             "funding_interval_h": self.hist.funding_interval_h(self.symbol)})

    def _frame_liquidations(self, start: int, end: int, cache: dict) -> pd.DataFrame:
        liq = liquidations_from_ccxt(self._series("liquidations", start, end, cache),
                                     venue=self.hist.venue, symbol=self.symbol)
        cache["realized"] = liq
        return pd.DataFrame({"ts_ms": liq.ts_ms, "side": liq.side, "price": liq.price,
                             "qty_coin": liq.qty_coin, "notional_usd": liq.notional_usd})

    def _store(self, outs: dict[str, Path], cache: dict, store, tally) -> None:
        bars = cache.get("bars")
        if bars is None and "bars" in outs and outs["bars"].is_file():
            bars = load_bars(outs["bars"], venue=self.hist.venue, symbol=self.symbol,
                             gaps="ignore")
        if bars is not None and len(bars):
            tally.stored_bars += int(store.write_bars(bars))
        liq = cache.get("realized")
        if liq is not None and len(liq):
            tally.stored_realized += int(store.write_realized(liq))

    def _tiers(self, tally) -> None:
        today = utc_date(self.now_ms)
        path = self.root / "leverage_tiers" / f"{today}.json"
        if self.manifest.is_complete(path):
            tally.skipped.append(self._rel(path))
            return
        try:
            tiers = self.hist.fetch_leverage_tiers(self.symbol)
        except LiqmapError as exc:
            tally.failed.append((self._rel(path), str(exc)))
            return
        body = json.dumps([{k: v for k, v in t.items() if k != "info"} for t in tiers],
                          indent=1, default=_json_default)
        with atomic_path(path) as tmp:
            tmp.write_text(body, encoding="utf-8")
        self.manifest.record(path, sha256_file(path))
        tally.fetched.append(self._rel(path))
        tally.bytes += path.stat().st_size


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)

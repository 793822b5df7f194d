"""A venue's largest linear perpetuals by open interest (ccxt), and their recent bars.

``liqmap scan --live`` ranks a venue's markets through ccxt, then fetches each chosen
symbol's recent closed bars with open interest the way ``liqmap live`` warms up (the venue's
REST client, :func:`liqmap.venues.live_clients`, ``RestBars.fetch_bars``).

Which markets: ``load_markets``, then linear perpetuals settled in USDT (USDC on
Hyperliquid), active. Ranked by open interest in USD, per venue (:data:`OI_RANKING`):

===============  ===================================================================
``okx``          ``fetch_open_interests`` (one ``/api/v5/public/open-interest?instType=
                 SWAP``; ``openInterestValue`` is OKX's ``oiUsd``)
``hyperliquid``  ``fetch_open_interests`` (one ``metaAndAssetCtxs``; coins x ``markPx``)
``bybit``        ``fetch_tickers`` (one ``/v5/market/tickers?category=linear``; the
                 tickers carry ``openInterestValue`` in USD)
``binance``      ``fetch_tickers`` (``binanceusdm``, one ``/fapi/v1/ticker/24hr``, no open
                 interest), then ``fetch_open_interest`` per symbol over the
                 :func:`candidates` with the largest 24 h quote volume (coins x last price)
===============  ===================================================================

Requests are capped: one or two calls on the first three venues, at most
:data:`MAX_PER_SYMBOL_CALLS` per-symbol calls on Binance. Errors: the venue unreachable
after retries -> :class:`liqmap.RetryLaterError`; a refused call -> :class:`liqmap.InputError`
(:class:`~liqmap.venues.CcxtHistory`'s policy). A symbol whose bars cannot be fetched is
returned in ``skipped`` with the reason, not raised.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqmap._exceptions import ConfigError, LiqmapError
from liqmap.core.bars import Bars
from liqmap.venues._shared.http import RetryPolicy
from liqmap.venues._shared.records import LiveBar, bars_from_live
from liqmap.venues._shared.ws import StreamClosed
from liqmap.venues.ccxt_history import CcxtHistory, make_exchange
from liqmap.venues.registry import LIVE_VENUES, VENUES, live_clients, spec_from_ccxt_market

__all__ = ["MAX_PER_SYMBOL_CALLS", "MAX_TOP", "OI_RANKING", "RankedMarket", "candidates",
           "fetch_recent_bars", "rank_by_open_interest"]

#: How each venue is ranked (see the module docstring).
OI_RANKING = {"okx": "fetch_open_interests", "hyperliquid": "fetch_open_interests",
              "bybit": "fetch_tickers (openInterestValue)",
              "binance": "fetch_tickers (24h quote volume), then fetch_open_interest per "
                         "candidate"}
#: Largest ``top_n`` accepted (each chosen symbol costs a few REST calls for its bars).
MAX_TOP = 50
#: At most this many per-symbol open-interest calls (Binance).
MAX_PER_SYMBOL_CALLS = 60


def candidates(top_n: int) -> int:
    """Symbols asked one by one on a venue without bulk open interest: the ``top_n`` x 2
    largest by 24 h quote volume, at least ``top_n + 10``, at most
    :data:`MAX_PER_SYMBOL_CALLS`.

    >>> candidates(5), candidates(20), candidates(50)
    (15, 40, 60)
    """
    return min(MAX_PER_SYMBOL_CALLS, max(2 * top_n, top_n + 10))


@dataclass(frozen=True, slots=True)
class RankedMarket:
    """One chosen market: liqmap venue, ccxt symbol, open interest in USD, the ccxt market."""

    venue: str
    symbol: str
    oi_usd: float
    market: Mapping[str, Any]

    def to_dict(self) -> dict:
        """JSON-ready (without the ccxt market)."""
        return {"venue": self.venue, "symbol": self.symbol, "oi_usd": self.oi_usd}


def _settle(venue: str) -> str:
    return "USDC" if venue == "hyperliquid" else "USDT"


def _perpetuals(venue: str, markets: Mapping[str, Mapping]) -> dict[str, Mapping]:
    settle = _settle(venue)
    return {s: m for s, m in markets.items()
            if m.get("swap") and m.get("linear") and m.get("settle") == settle
            and m.get("quote") == settle and m.get("active") is not False}


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _oi_usd(oi: Mapping, market: Mapping, price: float) -> float:
    """``openInterestValue``, else the amount (contracts x contract size) x ``price``."""
    value = _num(oi.get("openInterestValue"))
    if not math.isnan(value):
        return value
    amount = _num(oi.get("openInterestAmount"))
    size = _num(market.get("contractSize"))
    return amount * (1.0 if math.isnan(size) else size) * price


def _ranked_oi(venue: str, hist: CcxtHistory, perps: Mapping[str, Mapping],
               top_n: int) -> dict[str, float]:
    if venue in ("okx", "hyperliquid"):
        kw = {"params": {"instType": "SWAP"}} if venue == "okx" else {}
        ois = hist.call("fetch_open_interests", None, **kw)
        out = {}
        for sym, oi in (ois or {}).items():
            if sym in perps:
                info = oi.get("info") or {}
                out[sym] = _oi_usd(oi, perps[sym], _num(info.get("markPx")))
        return out
    tickers = hist.call("fetch_tickers", None, {"category": "linear"} if venue == "bybit"
                        else {})
    if venue == "bybit":
        return {s: _num((t.get("info") or {}).get("openInterestValue"))
                for s, t in tickers.items() if s in perps}
    by_volume = sorted((s for s in tickers if s in perps),
                       key=lambda s: -np.nan_to_num(_num(tickers[s].get("quoteVolume")),
                                                    nan=-1.0))
    return {s: _oi_usd(hist.call("fetch_open_interest", s), perps[s],
                       _num(tickers[s].get("last")))
            for s in by_volume[:candidates(top_n)]}


def _check(venue: str, top_n: int) -> None:
    if venue not in LIVE_VENUES:
        raise ConfigError(f"--venue {venue!r} cannot be ranked live; use one of: "
                          f"{', '.join(LIVE_VENUES)}")
    if isinstance(top_n, bool) or not isinstance(top_n, int) or not 1 <= top_n <= MAX_TOP:
        raise ConfigError(f"--top-oi must be a whole number from 1 to {MAX_TOP}, got {top_n!r}")


def rank_by_open_interest(venue: str, top_n: int, *, api_url: str | None = None,
                          exchange: Any = None,
                          retry: RetryPolicy = RetryPolicy()) -> list[RankedMarket]:
    """The ``top_n`` linear perpetuals of ``venue`` with the largest open interest in USD.

    Parameters
    ----------
    venue : str
        A liqmap venue with a live client (``binance``, ``bybit``, ``okx``, ``hyperliquid``).
    top_n : int
        1 to :data:`MAX_TOP`.
    api_url : str, optional
        Send ccxt's requests to this scheme+host (a mirror, a loopback server).

    Raises
    ------
    ConfigError
        Unknown venue, bad ``top_n``.
    RetryLaterError
        The venue is unreachable (after retries).
    InputError
        The venue refused a request.
    """
    _check(venue, top_n)
    cfg = VENUES[venue].CCXT[0]
    ex = exchange or make_exchange(cfg.venue, api_url=api_url)
    ex.options["fetchMarkets"] = {**ex.options.get("fetchMarkets", {}),
                                  "types": ["linear" if venue in ("bybit", "binance")
                                            else "swap"]}
    hist = CcxtHistory(ex, retry=retry, sleep=lambda s: time.sleep(s))
    perps = _perpetuals(venue, hist.call("load_markets"))
    oi = {s: v for s, v in _ranked_oi(venue, hist, perps, top_n).items() if v > 0}
    best = sorted(oi, key=lambda s: (-oi[s], s))[:top_n]
    return [RankedMarket(venue, s, oi[s], perps[s]) for s in best]


# ------------------------------------------------------------------------------- bars
def _with_oi(bars: list[LiveBar], current: float | None) -> list[LiveBar]:
    """Missing open interest carried forward (leading gaps dropped); a venue with no OI
    history (``seed_current_oi``) gives every bar the current value, as ``liqmap live``."""
    if current is not None and not any(np.isfinite(b.open_interest) for b in bars):
        return [b.with_oi(current) for b in bars]
    out, last = [], math.nan
    for b in bars:
        if not np.isfinite(b.open_interest):
            if not np.isfinite(last):
                continue
            b = b.with_oi(last)
        last = b.open_interest
        out.append(b)
    return out


async def _fetch_one(rest: Any, client: Any, start_ms: int, end_ms: int,
                     now_ms: int) -> list[LiveBar]:
    bars = [b for b in await rest.fetch_bars(client, start_ms, end_ms)
            if b.close_ms(rest.bar_ms) <= now_ms]
    current = None
    if bars and getattr(rest, "seed_current_oi", False) \
            and not any(np.isfinite(b.open_interest) for b in bars):
        current = (await rest.fetch_open_interest(client))[1]
    return _with_oi(bars, current)


async def _fetch_all(jobs: list[tuple[RankedMarket, Any]], start_ms: int, end_ms: int,
                     now_ms: int, min_bars: int) -> tuple[list[Bars], list[dict]]:
    import httpx

    got, skipped = [], []
    async with httpx.AsyncClient(timeout=10.0) as client:
        for m, rest in jobs:
            try:
                bars = await _fetch_one(rest, client, start_ms, end_ms, now_ms)
                if len(bars) < min_bars:
                    raise LiqmapError(f"{len(bars)} closed bars with open interest, fewer "
                                      f"than {min_bars}")
            except (LiqmapError, StreamClosed, ValueError, KeyError, TypeError) as exc:
                skipped.append({**m.to_dict(), "reason": f"{type(exc).__name__}: {exc}"})
                continue
            live = bars_from_live(bars, source=f"live {m.venue} (oi rank)")
            got.append(Bars(ts_ms=live.ts_ms, open=live.open, high=live.high, low=live.low,
                            close=live.close, open_interest=live.open_interest,
                            volume=live.volume, taker_buy_volume=live.taker_buy_volume,
                            funding_rate=live.funding_rate, venue=rest.spec.rules,
                            symbol=m.symbol, source=live.source))
    return got, skipped


def fetch_recent_bars(markets: Sequence[RankedMarket], *, lookback_ms: int,
                      now_ms: int | None = None, timeframe: str = "5m",
                      rest_urls: Mapping[str, str] | None = None,
                      min_bars: int = 2) -> tuple[list[Bars], list[dict]]:
    """Closed bars with open interest over the last ``lookback_ms`` of each market.

    Each market goes through its venue's live REST client (``liqmap live``'s warm-up), with
    contract units from the ccxt market. Returns ``(bars, skipped)``: one ``Bars`` per
    market that gave at least ``min_bars`` bars (venue and ccxt symbol set), and
    ``{venue, symbol, oi_usd, reason}`` for each that did not.
    """
    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    jobs, skipped = [], []
    windows = {}
    for m in markets:
        try:
            spec = spec_from_ccxt_market(m.venue, m.market)
            rest = live_clients(m.venue)[1](m.symbol, timeframe, spec=spec,
                                            url=(rest_urls or {}).get(m.venue))
        except LiqmapError as exc:
            skipped.append({**m.to_dict(), "reason": f"{type(exc).__name__}: {exc}"})
            continue
        jobs.append((m, rest))
        last_open = (now // rest.bar_ms) * rest.bar_ms - rest.bar_ms
        n = max(1, lookback_ms // rest.bar_ms)
        windows[rest.bar_ms] = (last_open - (n - 1) * rest.bar_ms, last_open)
    if not jobs:
        return [], skipped
    (start, end), = set(windows.values())  # one timeframe: one window
    got, more = asyncio.run(_fetch_all(jobs, start, end, now, min_bars))
    return got, skipped + more

"""The data endpoints of ``/api/v1``: heatmap, map, imbalance, clusters, max pain, cascade,
realized liquidations and market state.

Each answer is built from one immutable view (one data version). The heatmap and map bodies
are rendered to bytes once per view and parameters and then served from the cache, which
is what keeps them fast under load.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from fastapi import FastAPI, Query
from fastapi.responses import Response

from liqmap.core import mapstats
from liqmap.service import render
from liqmap.service import schemas as sc
from liqmap.service.views import LOOKBACKS_MS, compute_map, venues_of

__all__ = ["data_routes", "market_state_body"]

_ERRORS = {422: {"model": sc.ErrorOut}, 503: {"model": sc.ErrorOut}}
_DAY_MS = 86_400_000


def _q_venue():
    return Query(None, description="binance|bybit|okx|hyperliquid|aggregate among those held "
                 "(default: the first held)")


def _q_symbol():
    return Query(None, description="unified symbol, e.g. BTC/USDT:USDT (default: the first)")


def _q_lookback():
    return Query("7d", description="window ending at the last bar (or at_ms)",
                 json_schema_extra={"enum": list(LOOKBACKS_MS)})


def _q_at():
    return Query(None, description="map time, Unix ms (default: the last bar)")


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def _map(svc, venue, symbol, lookback, at_ms):
    """(view, per-venue maps, combined map) at ``at_ms`` (default: the view's last bar)."""
    from liqmap.service.app import HTTPProblem

    view = await svc.view(venue, symbol, lookback)
    if at_ms is None:
        return view, view.maps, view.final_map
    ts = view.full_bars[view.venues[0]].ts_ms
    lo, hi = int(ts[min(1, ts.size - 1)]), int(ts[-1])
    if not lo <= at_ms <= hi:
        raise HTTPProblem(422, f"at_ms {at_ms} is outside the data: give a time between "
                          f"{lo} and {hi} (Unix ms)")
    at_bar = int(ts[np.searchsorted(ts, at_ms, side="right") - 1])
    if at_bar >= hi:
        return view, view.maps, view.final_map
    key = (view.key, view.version, at_bar)
    found = svc.maps.get(key)
    if found is None:
        def job():
            out = compute_map(view, at_bar)
            svc.maps.put(key, out)
            return out

        found = await svc.runtime.run(f"computing the map at {at_bar}", job, key=("map",) + key)
    return (view,) + found


async def _cached(svc, key, build):
    """Bytes cached under ``key``, built in a worker thread on a miss."""
    body = svc.bodies.get(key)
    if body is None:
        def job():
            b = build()
            svc.bodies.put(key, b)
            return b

        body = await svc.runtime.run(f"rendering {key[0]}", job, key=("body",) + key)
    return body


def _heatmap_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/heatmap", response_model=sc.HeatmapOut, responses=_ERRORS,
             tags=["maps"])
    async def heatmap(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                      lookback: str = _q_lookback(),
                      resolution: int = Query(300, ge=50, le=1000,
                                              description="max time columns")):
        """The liquidation book over time (at most ``resolution`` x 200 cells)."""
        view = await svc.view(venue, symbol, lookback)
        key = ("heatmap", view.key, view.version, resolution)
        return _json(await _cached(svc, key, lambda: render.heatmap_body(view, resolution)))

    @app.get("/api/v1/map", response_model=sc.MapOut, responses=_ERRORS, tags=["maps"])
    async def liq_map(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                      lookback: str = _q_lookback(), at_ms: Optional[int] = _q_at()):
        """The liquidation map at one time, cumulative curves and its summary."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        key = ("map", view.key, view.version, int(m.ts_ms))
        return _json(await _cached(svc, key, lambda: render.map_body(view, m)))


def _band(m, lo_usd, hi_usd, band_pct) -> tuple[float, float]:
    """(up, down) fractions of price for ``mapstats.imbalance``."""
    from liqmap.service.app import HTTPProblem

    p = m.price_usd
    if lo_usd is None and hi_usd is None:
        f = (10.0 if band_pct is None else band_pct) / 100.0
        return f, min(f, 1.0)
    if lo_usd is None or hi_usd is None or band_pct is not None:
        raise HTTPProblem(422, "give both lo_usd and hi_usd, or band_pct alone")
    if lo_usd >= hi_usd:
        raise HTTPProblem(422, f"reversed band: lo_usd ({lo_usd}) must be below hi_usd "
                          f"({hi_usd})")
    if not 0 < lo_usd < p < hi_usd:
        raise HTTPProblem(422, f"the band [{lo_usd}, {hi_usd}] must contain the price {p:.2f} "
                          "with lo_usd > 0")
    return hi_usd / p - 1.0, 1.0 - lo_usd / p


def _analytics_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/imbalance", response_model=sc.ImbalanceOut, responses=_ERRORS,
             tags=["analytics"])
    async def imbalance(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                        lookback: str = _q_lookback(), at_ms: Optional[int] = _q_at(),
                        lo_usd: Optional[float] = Query(None, description="band low, USD"),
                        hi_usd: Optional[float] = Query(None, description="band high, USD"),
                        band_pct: Optional[float] = Query(
                            None, gt=0, le=100, description="+/- band, percent (default 10)")):
        """Shorts between the price and ``hi_usd`` over longs between ``lo_usd`` and it."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        up, down = _band(m, lo_usd, hi_usd, band_pct)
        return {**render.head(view, m), **render.record(mapstats.imbalance(m, up, down))}

    @app.get("/api/v1/clusters", response_model=sc.ClustersOut, responses=_ERRORS,
             tags=["analytics"])
    async def clusters(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                       lookback: str = _q_lookback(), at_ms: Optional[int] = _q_at(),
                       top: int = Query(5, ge=1, le=50),
                       side: str = Query("both", pattern="^(both|long|short)$")):
        """The largest peaks of the map (``liqmap.core.mapstats.clusters``)."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        found = mapstats.clusters(m, side, top=top)
        return {**render.head(view, m), "clusters": [render.record(c) for c in found]}

    @app.get("/api/v1/max-pain", response_model=sc.MaxPainOut, responses=_ERRORS,
             tags=["analytics"])
    async def max_pain(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                       lookback: str = _q_lookback(), at_ms: Optional[int] = _q_at()):
        """The level a move would liquidate the most at per unit of push."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        return {**render.head(view, m), "max_pain": render.record(mapstats.max_pain(m))}

    @app.get("/api/v1/cascade", response_model=sc.CascadeOut, responses=_ERRORS,
             tags=["analytics"])
    async def cascade(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                      lookback: str = _q_lookback(), at_ms: Optional[int] = _q_at(),
                      shock_pct: float = Query(5.0, ge=-50, le=50,
                                               description="instant move, percent")):
        """Cascade after an instant shock (``liqmap.CascadeSimulator``, shipped impact)."""
        view, maps, m = await _map(svc, venue, symbol, lookback, at_ms)
        key = ("cascade", view.key, view.version, int(m.ts_ms), float(shock_pct))
        found = svc.bodies.get(key)
        if found is None:
            def job():
                from liqmap.cascade import CascadeSimulator

                body = render.cascade_body(view, m, CascadeSimulator().run(maps, shock_pct))
                svc.bodies.put(key, body)
                return body

            found = await svc.runtime.run("simulating the cascade", job, key=key)
        return found


def _realized_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/realized", response_model=sc.RealizedOut, responses=_ERRORS,
             tags=["analytics"])
    async def realized(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                       start_ms: Optional[int] = Query(None, description="default end - 24h"),
                       end_ms: Optional[int] = Query(None, description="default: data end")):
        """Realized liquidations in ``[start_ms, end_ms)`` and their totals per bar."""
        from liqmap.service.app import HTTPProblem
        from liqmap.service.views import _realized

        cat, key = await svc.key(venue, symbol, "24h")
        venues = venues_of(cat, key)

        def job():
            bars = svc.source.bars(venues[0], key.symbol)
            end = int(bars.ts_ms[-1]) + bars.bar_ms if end_ms is None else end_ms
            start = end - _DAY_MS if start_ms is None else start_ms
            if start >= end:
                raise HTTPProblem(422, f"start_ms ({start}) must be before end_ms ({end})")
            liq = _realized(svc.source, venues, key.symbol, start, end)
            return render.realized_body(key.venue, key.symbol, start, end, liq, bars)

        return await svc.runtime.run("reading realized liquidations", job,
                                     key=("realized", key, cat.version, start_ms, end_ms))

    @app.get("/api/v1/market-state", response_model=sc.MarketStateOut, responses=_ERRORS,
             tags=["analytics"])
    async def market_state(venue: Optional[str] = _q_venue(),
                           symbol: Optional[str] = _q_symbol(),
                           lookback: str = _q_lookback()):
        """Open-interest flush, funding now vs mean, realized per day, imbalance trend."""
        view = await svc.view(venue, symbol, lookback)
        key = ("market-state", view.key, view.version)
        found = svc.bodies.get(key)
        if found is None:
            def job():
                body = market_state_body(view)
                svc.bodies.put(key, body)
                return body

            found = await svc.runtime.run("computing the market state", job, key=key)
        return found


def _frame_maps(view, points: int = 5):
    """LiqMaps read from the view's display heatmap at ``points`` evenly spaced frames."""
    from liqmap.core.records import LiqMap

    b = view.price_bars
    idx = np.unique(np.linspace(0, view.hm_ts_ms.size - 1, points).round().astype(int))
    out = []
    for i in idx:
        t = int(view.hm_ts_ms[i])
        close = float(b.close[np.searchsorted(b.ts_ms, t, side="right") - 1])
        out.append(LiqMap(t, close, view.hm_bins_usd, view.hm_long_usd[i], view.hm_short_usd[i],
                          venue=view.key.venue, symbol=view.key.symbol))
    return out


def market_state_body(view) -> dict:
    """``liqmap.studies.market_state`` over the view's window, as the API answer."""
    from liqmap.studies.market_state import market_state

    b = view.price_bars
    full = view.full_bars[view.venues[0]]
    st = market_state(full, view.realized, int(b.ts_ms[0]), int(b.ts_ms[-1]) + 1,
                      maps=_frame_maps(view))
    d = st.to_dict()
    fu = d.get("funding") or {}
    oi0, oi1 = d["oi_start_coin"], d["oi_end_coin"]
    return render.jsonable({
        "venue": view.key.venue, "symbol": view.key.symbol, "lookback": view.key.lookback,
        "data_version": view.version, "start_ms": d["start_ms"], "end_ms": d["end_ms"],
        "oi_change_pct": 100.0 * (oi1 / oi0 - 1.0) if oi0 else math.nan,
        "max_oi_drawdown_pct": d["flush"]["drop_pct"],
        "funding_now": fu.get("now"), "funding_mean": fu.get("window_mean"),
        "realized_per_day": list(d.get("realized_per_day") or []),
        "imbalance_trend": list(d.get("imbalance") or []),
        "imbalance_trend_pp": d.get("imbalance_trend_pp"),
        "sentences": st.sentences(), "state": d})


def data_routes(app: FastAPI, svc) -> None:
    """Register the data endpoints on ``app``."""
    _heatmap_routes(app, svc)
    _analytics_routes(app, svc)
    _realized_routes(app, svc)


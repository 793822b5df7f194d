"""The data endpoints of ``/api/v1``: heatmap, map, imbalance, clusters, max pain, cascade,
realized liquidations and market state.

Each answer is built from one immutable view (one data version). The heatmap and map bodies
are rendered to bytes (and gzipped) once per view and parameters and then served from the
cache, which is what keeps them fast under load.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from liqmap._exceptions import ConfigError
from liqmap.core import mapstats
from liqmap.model import check_at_ms
from liqmap.service import render
from liqmap.service import schemas as sc
from liqmap.service._problems import HTTPProblem
from liqmap.service.views import LOOKBACKS_MS, compute_map, venues_of, window_bars
from liqmap.timeutil import MS_PER_DAY

__all__ = ["data_routes", "market_state_body"]

_ERRORS = {422: {"model": sc.ErrorOut}, 503: {"model": sc.ErrorOut}}


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


def _json(body: render.Encoded, request: Request) -> Response:
    """The cached body, gzipped when the client accepts it."""
    if body.gzip is not None and render.accepts_gzip(request.headers.get("accept-encoding")):
        return Response(body.gzip, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body.raw, media_type="application/json",
                    headers={"Vary": "Accept-Encoding"})


async def _map(svc, venue, symbol, lookback, at_ms):
    """(view, per-venue maps, combined map) at ``at_ms`` (default: the view's last bar)."""
    view = await svc.view(venue, symbol, lookback)
    if at_ms is None:
        return view, view.maps, view.final_map
    try:  # the library's rule (CLI --at too): inside every venue's data, else named span
        for v in view.venues:
            check_at_ms(view.full_bars[v], at_ms)
    except ConfigError as exc:
        raise HTTPProblem(422, str(exc)) from None
    ts = view.full_bars[view.venues[0]].ts_ms
    at_bar = int(ts[np.searchsorted(ts, at_ms, side="right") - 1])
    if at_bar >= int(view.final_map.ts_ms):
        return view, view.maps, view.final_map
    found = await svc.runtime.cached(svc.maps, (view.key, view.version, at_bar),
                                     f"computing the map at {at_bar}",
                                     lambda: compute_map(view, at_bar))
    return (view,) + found


async def _cached(svc, key, build, what: str | None = None):
    """Body cached under ``key`` (which holds the view key, data version and every other
    parameter), built once in the computation pool on a miss (single-flight)."""
    return await svc.runtime.cached(svc.bodies, key, what or f"rendering {key[0]}", build)


def _heatmap_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/heatmap", response_model=sc.HeatmapOut, responses=_ERRORS,
             tags=["maps"])
    async def heatmap(request: Request, venue: Optional[str] = _q_venue(),
                      symbol: Optional[str] = _q_symbol(), lookback: str = _q_lookback(),
                      resolution: int = Query(300, ge=50, le=1000,
                                              description="max time columns")):
        """The liquidation book over time (at most ``resolution`` x 200 cells)."""
        view = await svc.view(venue, symbol, lookback)
        key = ("heatmap", view.key, view.version, resolution)
        return _json(await _cached(svc, key, lambda: render.Encoded.of(
            render.heatmap_body(view, resolution))), request)

    @app.get("/api/v1/map", response_model=sc.MapOut, responses=_ERRORS, tags=["maps"])
    async def liq_map(request: Request, venue: Optional[str] = _q_venue(),
                      symbol: Optional[str] = _q_symbol(), lookback: str = _q_lookback(),
                      at_ms: Optional[int] = _q_at()):
        """The liquidation map at one time, cumulative curves and its summary."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        key = ("map", view.key, view.version, int(m.ts_ms))
        return _json(await _cached(svc, key, lambda: render.Encoded.of(
            render.map_body(view, m))), request)


def _band(m, lo_usd, hi_usd, band_pct) -> tuple[float, float]:
    """(up, down) fractions of price for ``mapstats.imbalance``."""
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
        """Cascade after an instant shock (``liqmap.cascade.run.cascade_for``: the shipped
        impact scaled to the traded volume of the bars the map was built from, as the CLI)."""
        view, maps, m = await _map(svc, venue, symbol, lookback, at_ms)
        key = ("cascade", view.key, view.version, int(m.ts_ms), float(shock_pct))

        def build():
            from liqmap.cascade.run import cascade_for

            bars = {v: window_bars(view.full_bars[v], view.key.lookback, int(m.ts_ms))[0]
                    for v in view.venues}  # the bars each venue's map was built from
            return render.cascade_body(view, m, cascade_for(maps, bars, shock_pct))

        return await _cached(svc, key, build, "simulating the cascade")


def _realized_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/realized", response_model=sc.RealizedOut, responses=_ERRORS,
             tags=["analytics"])
    async def realized(venue: Optional[str] = _q_venue(), symbol: Optional[str] = _q_symbol(),
                       start_ms: Optional[int] = Query(None, description="default end - 24h"),
                       end_ms: Optional[int] = Query(None, description="default: data end")):
        """Realized liquidations in ``[start_ms, end_ms)`` and their totals per bar."""
        from liqmap.service.views import _realized

        cat, key = await svc.key(venue, symbol, "24h")
        venues = venues_of(cat, key)

        def build():
            bars = svc.source.bars(venues[0], key.symbol)
            end = int(bars.ts_ms[-1]) + bars.bar_ms if end_ms is None else end_ms
            start = end - MS_PER_DAY if start_ms is None else start_ms
            if start >= end:
                raise HTTPProblem(422, f"start_ms ({start}) must be before end_ms ({end})")
            liq = _realized(svc.source, venues, key.symbol, start, end)
            return render.realized_body(key.venue, key.symbol, start, end, liq, bars)

        return await _cached(svc, ("realized", key, cat.version, start_ms, end_ms), build,
                             "reading realized liquidations")

    @app.get("/api/v1/market-state", response_model=sc.MarketStateOut, responses=_ERRORS,
             tags=["analytics"])
    async def market_state(venue: Optional[str] = _q_venue(),
                           symbol: Optional[str] = _q_symbol(),
                           lookback: str = _q_lookback()):
        """Open-interest flush, funding now vs mean, realized per day, imbalance trend."""
        view = await svc.view(venue, symbol, lookback)
        return await _cached(svc, ("market-state", view.key, view.version),
                             lambda: market_state_body(view), "computing the market state")


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


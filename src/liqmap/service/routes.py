"""The data endpoints of ``/api/v1``: heatmap, map, imbalance, clusters, max pain, cascade,
realized liquidations, market state and the stored level watch.

Each answer is built from one immutable view (one data version). The heatmap and map bodies
are rendered to bytes (and gzipped) once per view and parameters and then served from the
cache, which is what keeps them fast under load.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from liqmap._exceptions import ConfigError
from liqmap.core import mapstats
from liqmap.model import LOOKBACKS_MS as MODEL_LOOKBACKS
from liqmap.model import check_at_ms
from liqmap.service import render
from liqmap.service import schemas as sc
from liqmap.service._problems import HTTPProblem
from liqmap.service.views import LOOKBACKS_MS, compute_brief, compute_map, venues_of, window_bars
from liqmap.timeutil import MS_PER_DAY

__all__ = ["data_routes", "market_state_body"]

_ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": sc.ErrorOut}, 503: {"model": sc.ErrorOut}}


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


def _q_convention():
    return Query(None, description="how positions are counted: liqmap (default) or vendor "
                 "(the way popular tools appear to count: openings never removed, one side "
                 "per candle, high leverage)", json_schema_extra={"enum": ["liqmap", "vendor"]})


def _json(body: render.Encoded, request: Request) -> Response:
    """The cached body, gzipped when the client accepts it."""
    if body.gzip is not None and render.accepts_gzip(request.headers.get("accept-encoding")):
        return Response(body.gzip, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body.raw, media_type="application/json",
                    headers={"Vary": "Accept-Encoding"})


async def _map(svc, venue, symbol, lookback, at_ms, convention=None):
    """(view, per-venue maps, combined map) at ``at_ms`` (default: the view's last bar)."""
    view = await svc.view(venue, symbol, lookback, convention=convention)
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
    async def heatmap(request: Request, venue: str | None = _q_venue(),
                      symbol: str | None = _q_symbol(), lookback: str = _q_lookback(),
                      resolution: int = Query(300, ge=50, le=1000,
                                              description="max time columns"),
                      warmup: str | None = Query(None, description="history run before the "
                                                 "lookback (90d, 36h; 0: none; default: up "
                                                 "to 90d), so the first column shows the "
                                                 "standing levels"),
                      at_ms: int | None = Query(None, description="end the window at this "
                                                "time, Unix ms (a replay; default: the last "
                                                "bar)"),
                      convention: str | None = _q_convention()):
        """The liquidation book over time (at most ``resolution`` x 200 cells)."""
        view = await svc.view(venue, symbol, lookback, warmup, convention, at_ms)
        key = ("heatmap", view.key, view.version, resolution)
        return _json(await _cached(svc, key, lambda: render.Encoded.of(
            render.heatmap_body(view, resolution))), request)

    @app.get("/api/v1/map", response_model=sc.MapOut, responses=_ERRORS, tags=["maps"])
    async def liq_map(request: Request, venue: str | None = _q_venue(),
                      symbol: str | None = _q_symbol(), lookback: str = _q_lookback(),
                      at_ms: int | None = _q_at(), convention: str | None = _q_convention(),
                      fmt: str = Query("json", alias="format", pattern="^(json|csv)$",
                                       description="json, or csv: one row per price bin "
                                       "(longs, shorts, cumulative, band) to download")):
        """The liquidation map at one time, cumulative curves and its summary."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms, convention)
        if fmt == "csv":
            text = await _cached(svc, ("map.csv", view.key, view.version, int(m.ts_ms)),
                                 lambda: render.map_csv(view, m))
            return Response(text, media_type="text/csv", headers={
                "Content-Disposition": f'attachment; filename="{render.map_csv_name(view, m)}"'})
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
    async def imbalance(venue: str | None = _q_venue(), symbol: str | None = _q_symbol(),
                        lookback: str = _q_lookback(), at_ms: int | None = _q_at(),
                        lo_usd: float | None = Query(None, description="band low, USD"),
                        hi_usd: float | None = Query(None, description="band high, USD"),
                        band_pct: float | None = Query(
                            None, gt=0, le=100, description="+/- band, percent (default 10)")):
        """Shorts between the price and ``hi_usd`` over longs between ``lo_usd`` and it."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        up, down = _band(m, lo_usd, hi_usd, band_pct)
        return {**render.head(view, m), **render.record(mapstats.imbalance(m, up, down))}

    @app.get("/api/v1/clusters", response_model=sc.ClustersOut, responses=_ERRORS,
             tags=["analytics"])
    async def clusters(venue: str | None = _q_venue(), symbol: str | None = _q_symbol(),
                       lookback: str = _q_lookback(), at_ms: int | None = _q_at(),
                       top: int = Query(5, ge=1, le=50),
                       side: str = Query("both", pattern="^(both|long|short)$")):
        """The largest peaks of the map (``liqmap.core.mapstats.clusters``)."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        found = mapstats.clusters(m, side, top=top)
        return {**render.head(view, m), "clusters": [render.record(c) for c in found]}

    @app.get("/api/v1/max-pain", response_model=sc.MaxPainOut, responses=_ERRORS,
             tags=["analytics"])
    async def max_pain(venue: str | None = _q_venue(), symbol: str | None = _q_symbol(),
                       lookback: str = _q_lookback(), at_ms: int | None = _q_at()):
        """The harvest level (the most notional liquidated per unit of push; ``max_pain`` is
        its deprecated name), the squeeze ceiling and the flush floor."""
        view, _, m = await _map(svc, venue, symbol, lookback, at_ms)
        harvest = render.record(mapstats.harvest_level(m))
        return {**render.head(view, m), "max_pain": harvest, "harvest_level": harvest,
                "squeeze_ceiling": render.record(mapstats.squeeze_ceiling(m)),
                "flush_floor": render.record(mapstats.flush_floor(m))}

    @app.get("/api/v1/cascade", response_model=sc.CascadeOut, responses=_ERRORS,
             tags=["analytics"])
    async def cascade(venue: str | None = _q_venue(), symbol: str | None = _q_symbol(),
                      lookback: str = _q_lookback(), at_ms: int | None = _q_at(),
                      shock_pct: float = Query(5.0, ge=-50, le=50,
                                               description="instant move, percent"),
                      convention: str | None = _q_convention()):
        """Cascade after an instant shock (``liqmap.cascade.run.cascade_for``: the shipped
        impact scaled to the traded volume of the bars the map was built from, as the CLI)."""
        view, maps, m = await _map(svc, venue, symbol, lookback, at_ms, convention)
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
    async def realized(venue: str | None = _q_venue(), symbol: str | None = _q_symbol(),
                       start_ms: int | None = Query(None, description="default end - 24h"),
                       end_ms: int | None = Query(None, description="default: data end")):
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
    async def market_state(venue: str | None = _q_venue(),
                           symbol: str | None = _q_symbol(),
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


_NO_LEVELS = ("the level watch is kept in a liqmap store and this source is not one: serve a "
              "store (liqmap serve --db FILE) filled by `liqmap watch --db FILE --record` or "
              "`liqmap live --db FILE`")


def _level_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/levels/approaches", response_model=sc.LevelApproachesOut,
             responses={**_ERRORS, 404: {"model": sc.ErrorOut}}, tags=["analytics"])
    async def level_approaches(
            venue: str | None = Query(None, description="binance|bybit|okx|hyperliquid "
                                      "(default: every venue stored; aggregate = every)"),
            symbol: str | None = Query(None, description="unified symbol (default: every)"),
            since_ms: int | None = Query(None, description="approaches from this time, Unix ms"),
            limit: int = Query(200, ge=1, le=5000, description="list at most the newest N")):
        """The stored level watch: every approach of a map cluster and what followed
        (through or rejected, realized liquidations in the next hour), with a summary per
        side. 404 when the source is not a store."""
        from liqmap.watch.approaches import summarize_approaches

        v = None if venue in (None, "aggregate") else venue
        items = await svc.runtime.read(
            "reading level approaches",
            lambda: getattr(svc.source, "level_approaches", lambda *a: None)(v, symbol, since_ms),
            key=("level-approaches", v, symbol, since_ms))
        if items is None:
            raise HTTPProblem(404, _NO_LEVELS)
        return render.jsonable({
            "venue": v, "symbol": symbol, "since_ms": since_ms,
            "approaches": [a.to_dict() for a in items[-limit:]],
            "approaches_truncated": len(items) > limit,
            "summary": summarize_approaches(items)})


def _brief_routes(app: FastAPI, svc) -> None:
    @app.get("/api/v1/brief", response_model=sc.BriefOut, responses=_ERRORS, tags=["analytics"])
    async def brief(request: Request, venue: str | None = _q_venue(),
                    symbol: str | None = _q_symbol(),
                    lookback: str | None = Query(None, description="count only the positions "
                                                 "opened within this window before at_ms "
                                                 "(default: all the history up to it, as "
                                                 "`liqmap brief`)",
                                                 json_schema_extra={"enum": list(MODEL_LOOKBACKS)}),
                    at_ms: int | None = _q_at(), convention: str | None = _q_convention()):
        """The map read as traders read one (``liqmap brief``, the same numbers): shorts vs
        longs within 5/10/20/50 % (N:1), the layers and their staircase, the densest zone,
        the squeeze ceiling and flush floor, the levels to watch, the caveat and a paragraph."""
        if lookback is not None and lookback not in MODEL_LOOKBACKS:
            raise HTTPProblem(422, f"unknown lookback {lookback!r}: use one of "
                              f"{list(MODEL_LOOKBACKS)} or none (all the history)")
        cat, key = await svc.key(venue, symbol, "7d", None, convention)
        await svc.at_bar(key, at_ms)  # 422 outside the data; the CLI's --at is passed as given
        at = at_ms  # (a lookback is counted back from it, as `liqmap brief --at` does)

        def build():
            store = svc.source.scorecard_store()
            version, body = compute_brief(svc.reads, key, lookback, at, svc.scorecard_dir,
                                          store)
            return render.Encoded.of(render.dumps({**body, "data_version": version}))

        return _json(await _cached(svc, ("brief", key, cat.version, lookback, at), build,
                                   "reading the brief"), request)


def data_routes(app: FastAPI, svc) -> None:
    """Register the data endpoints on ``app``."""
    _heatmap_routes(app, svc)
    _brief_routes(app, svc)
    _analytics_routes(app, svc)
    _realized_routes(app, svc)
    _level_routes(app, svc)


"""``GET /api/v1/scan``: the market at once over the service's source (``liqmap scan``).

One row per symbol and venue the source holds (the store's series, the bundled sample, the
live feed's series), from :func:`liqmap.scaleout.scan.scan` run serially in the heavy pool
and cached per data version and parameters, like every other computed answer.
"""

from __future__ import annotations

from fastapi import FastAPI, Query

from liqmap.model import LOOKBACKS_MS as MODEL_LOOKBACKS
from liqmap.service import render
from liqmap.service import schemas as sc
from liqmap.service._problems import HTTPProblem

__all__ = ["SCAN_SORTS", "scan_routes", "scan_series"]

#: The sort orders of :data:`liqmap.scaleout.scan.SORTS` (written here so the route's
#: signature needs no import of the scan module; a test checks the two agree).
SCAN_SORTS = ("imbalance", "nearest-cluster", "ceiling", "floor", "symbol")


_Q_VENUES = Query(None, description="only these venues (repeat, or comma-separated; "
                  "default: every venue held)")
_Q_SYMBOLS = Query(None, description="only these symbols: a unified symbol or its base, ETH "
                   "(repeat, or comma-separated; default: every symbol held)")


def _split(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated query values, in order, without blanks or repeats."""
    out: list[str] = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip() and x.strip() not in out]
    return out


def scan_series(cat, venues: list[str], symbols: list[str]) -> list:
    """The catalog's series of ``venues`` (all when empty) and ``symbols`` (a symbol or its
    base, ``ETH`` for ``ETH/USDT:USDT``; all when empty); 422 naming what is held."""
    held = list(cat.series)
    bad = [v for v in venues if v not in cat.venues]
    if bad:
        raise HTTPProblem(422, f"unknown venue(s) {bad}: this source holds {list(cat.venues)}")
    wanted = {s.upper() for s in symbols}
    keep = [s for s in held if (not venues or s.venue in venues)
            and (not symbols or s.symbol.upper() in wanted
                 or s.symbol.split("/")[0].upper() in wanted)]
    if not keep:
        have = ", ".join(f"{s.symbol}@{s.venue}" for s in held)
        raise HTTPProblem(422, f"no series of venue(s) {venues} and symbol(s) {symbols}; "
                          f"this source holds: {have}")
    return keep


def scan_routes(app: FastAPI, svc) -> None:
    """Register ``/api/v1/scan`` on ``app``."""

    @app.get("/api/v1/scan", response_model=sc.ScanOut,
             responses={422: {"model": sc.ErrorOut}, 503: {"model": sc.ErrorOut}},
             tags=["analytics"])
    async def scan(
            venues: list[str] | None = _Q_VENUES, symbols: list[str] | None = _Q_SYMBOLS,
            sort: str = Query("imbalance", description="row order: imbalance (largest "
                              "|ln(shorts/longs)| within 20 %), nearest-cluster, ceiling, floor "
                              "(nearest squeeze ceiling / flush floor) or symbol",
                              json_schema_extra={"enum": list(SCAN_SORTS)}),
            top: int | None = Query(None, ge=1, le=5000, description="keep the first N rows"),
            lookback: str | None = Query(None, description="each series' window ending at its "
                                         "last bar (default: all its bars)",
                                         json_schema_extra={"enum": list(MODEL_LOOKBACKS)})):
        """The market at once: each symbol and venue the source holds run through the model
        (``liqmap scan``, serially in the computation pool): price, shorts and longs within
        10 % and 20 %, the imbalance, the nearest cluster each way, the squeeze ceiling and
        flush floor, and the tier table applied; sorted by ``sort``."""
        if sort not in SCAN_SORTS:
            raise HTTPProblem(422, f"unknown sort {sort!r}: use one of {list(SCAN_SORTS)}")
        if lookback is not None and lookback not in MODEL_LOOKBACKS:
            raise HTTPProblem(422, f"unknown lookback {lookback!r}: use one of "
                              f"{list(MODEL_LOOKBACKS)} or none (all the bars)")
        cat = await svc.guard.get()
        if not cat.series:
            from liqmap.service.runtime import Unavailable

            raise Unavailable("the data source holds no bars yet; load some and retry")
        vs, ss = _split(venues), _split(symbols)
        picked = scan_series(cat, vs, ss)

        def build() -> dict:
            from liqmap.scaleout.scan import scan as run_scan

            sources = [(s.venue, s.symbol, svc.source.bars(s.venue, s.symbol)) for s in picked]
            res = run_scan(sources, sort_by=sort, top=top, lookback=lookback).to_dict()
            return render.jsonable({
                "source": cat.name, "data_version": cat.version, "lookback": lookback,
                "venues": sorted({s.venue for s in picked}),
                "symbols": list(dict.fromkeys(s.symbol for s in picked)),
                "sorts": list(SCAN_SORTS), **res})

        key = ("scan", tuple(vs), tuple(ss), sort, top, lookback, cat.version)
        return await svc.runtime.cached(svc.bodies, key, "scanning the market", build)

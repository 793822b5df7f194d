"""The FastAPI application: ``create_app(source=None, ...) -> FastAPI``.

Read-only JSON API under ``/api/v1`` (shapes in :mod:`liqmap.service.schemas`), the
dashboard at ``/`` and its files under ``/static``, server-sent events at
``/api/v1/stream``. Without a source the bundled sample is served; ``liqmap serve --db``
serves a DuckDB store; ``liqmap serve --live`` streams venues into memory
(:mod:`liqmap.service.live_source`).

Errors: bad parameters answer 422 with a message naming the valid values; a slow or failing
source, or a burst of new computations beyond the pool's bound, answers 503
``{"detail", "retry_after_s"}`` with ``Retry-After`` and the next request tries again (a
cached view and ``/health`` never wait for computations: see
:mod:`liqmap.service.runtime`); the only writing endpoint, ``POST /api/v1/admin/refresh``,
answers 403 unless the operator set an admin token (``LIQMAP_ADMIN_TOKEN`` or
``admin_token=``).

>>> from fastapi.testclient import TestClient
>>> client = TestClient(create_app())                         # doctest: +SKIP
>>> client.get("/api/v1/health").json()["venues"]             # doctest: +SKIP
['binance', 'aggregate']
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from liqmap._exceptions import ConfigError, InputError, RetryLaterError
from liqmap.model import check_at_ms
from liqmap.params import parse_param, parse_run_param
from liqmap.scorecard.running import running_scorecard, stored_prediction_series
from liqmap.service import schemas as sc
from liqmap.service._problems import HTTPProblem
from liqmap.service.routes import data_routes
from liqmap.service.runtime import LRU, CatalogGuard, Runtime, Unavailable
from liqmap.service.scan_routes import scan_routes
from liqmap.service.sources import BundledSource, DataSource, SharedBars
from liqmap.service.stream import stream_routes
from liqmap.service.views import AGGREGATE, LOOKBACKS_MS, ViewKey, compute_view, venues_of

__all__ = ["ADMIN_TOKEN_ENV", "Service", "create_app"]

ADMIN_TOKEN_ENV = "LIQMAP_ADMIN_TOKEN"
STATIC_DIR = Path(__file__).with_name("static")
API = "/api/v1"
DEFAULT_LOOKBACK = "7d"


@dataclass
class Service:
    """Everything one app instance shares between requests."""

    source: DataSource
    runtime: Runtime
    guard: CatalogGuard
    scorecard_dir: Path
    admin_token: str | None
    stream_poll_s: float = 1.0
    heartbeat_s: float = 5.0
    views: LRU = field(default_factory=lambda: LRU(32, "views"))
    maps: LRU = field(default_factory=lambda: LRU(64, "maps"))
    bodies: LRU = field(default_factory=lambda: LRU(256, "bodies"))
    bars: LRU = field(default_factory=lambda: LRU(8, "bars"))

    def __post_init__(self) -> None:
        self.reads = SharedBars(self.source, self.bars)  # what views are computed from

    def clear(self) -> None:
        for cache in (self.views, self.maps, self.bodies, self.bars):
            cache.clear()
        self.guard.invalidate()

    # ----------------------------------------------------------------- parameters
    async def key(self, venue: str | None, symbol: str | None, lookback: str,
                  warmup: str | None = None, convention: str | None = None):
        """Validate venue/symbol/lookback (and warm-up, convention) against the catalog;
        return (catalog, ViewKey)."""
        cat = await self.guard.get()
        if not cat.series:
            raise Unavailable("the data source holds no bars yet; load some and retry")
        symbol = symbol or cat.symbols[0]
        if symbol not in cat.symbols:
            raise HTTPProblem(422, f"unknown symbol {symbol!r}: use one of {list(cat.symbols)}")
        venues = list(cat.venues_for(symbol)) + [AGGREGATE]
        venue = venue or venues[0]
        if venue not in venues:
            raise HTTPProblem(422, f"unknown venue {venue!r} for {symbol}: use one of {venues}")
        if lookback not in LOOKBACKS_MS:
            raise HTTPProblem(422, f"unknown lookback {lookback!r}: use one of "
                              f"{list(LOOKBACKS_MS)}")
        try:  # the library's parsers (the CLI's --warmup and --convention too)
            parse_run_param("warmup", warmup, "warmup")
            convention = parse_param("convention", convention or "liqmap", "convention")
        except ConfigError as exc:
            raise HTTPProblem(422, str(exc)) from None
        return cat, ViewKey(venue, symbol, lookback, warmup, convention)

    async def at_bar(self, key, at_ms: int | None) -> int | None:
        """``at_ms`` as the open of the bar the map stands after (None: the last bar, also
        when ``at_ms`` falls in it); 422 outside the data (``liqmap.model.check_at_ms``)."""
        if at_ms is None:
            return None
        cat = await self.guard.get()
        venues = venues_of(cat, key)
        bars = await self.runtime.read("reading the bars",
                                       lambda: [self.reads.bars(v, key.symbol) for v in venues])
        try:
            for b in bars:
                check_at_ms(b, at_ms)
        except ConfigError as exc:
            raise HTTPProblem(422, str(exc)) from None
        ts = bars[0].ts_ms
        at = int(ts[np.searchsorted(ts, at_ms, side="right") - 1])
        return None if all(at >= int(b.ts_ms[-1]) for b in bars) else at

    async def view(self, venue, symbol, lookback, warmup: str | None = None,
                   convention: str | None = None, at_ms: int | None = None):
        """The cached view for the current data version (computed once, single-flight).

        Cached under ``(ViewKey, data version)``: the key holds every parameter of a view,
        and new data get a new version, hence a new computation. ``at_ms`` ends the view
        at an earlier bar (a replay; the heatmap's window then ends there).
        """
        cat, key = await self.key(venue, symbol, lookback, warmup, convention)
        if at_ms is not None:
            key = replace(key, at_ms=await self.at_bar(key, at_ms))

        def compute():
            v = compute_view(self.reads, key)
            self.views.put((key, v.version), v)  # read at a newer version than cat's
            return v

        return await self.runtime.cached(self.views, (key, cat.version),
                                         f"computing the {key.venue} {key.symbol} "
                                         f"{key.lookback} view", compute)

    def check_token(self, authorization: str | None) -> None:
        if not self.admin_token:
            raise HTTPProblem(403, "admin endpoints are disabled: start the server with "
                              f"--admin-token or set {ADMIN_TOKEN_ENV}")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(),
                                                                 self.admin_token.encode()):
            raise HTTPProblem(403, "missing or wrong admin token: send the header "
                              "'Authorization: Bearer <token>'")


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, exc: HTTPProblem):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        msgs = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
                for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(msgs) or "invalid request"}, status_code=422)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable):
        return _503(exc.reason, exc.retry_after_s)

    @app.exception_handler(RetryLaterError)
    async def _retry(request: Request, exc: RetryLaterError):
        return _503(f"the data source failed, retry later: {exc}", 1.0)


def _503(reason: str, retry_after_s: float) -> JSONResponse:
    return JSONResponse({"detail": reason, "retry_after_s": retry_after_s}, status_code=503,
                        headers={"Retry-After": str(max(1, round(retry_after_s)))})


def _static_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index():
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse("<p>liqmap API: the dashboard files are not installed; see "
                            "<a href='/docs'>/docs</a>.</p>")

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    async def plotly_js():
        try:
            import plotly
        except ImportError:
            raise HTTPProblem(404, "plotly is not installed: pip install plotly") from None
        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        if not path.is_file():
            raise HTTPProblem(404, f"{path} not found: reinstall plotly")
        return FileResponse(path, media_type="application/javascript")

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _meta_routes(app: FastAPI, svc: Service) -> None:
    @app.get(f"{API}/health", response_model=sc.Health, tags=["meta"],
             responses={503: {"model": sc.ErrorOut}})
    async def health():
        """What is served: source, venues (plus ``aggregate``), symbols, time span."""
        cat = await svc.guard.get()
        return {"status": "ok", "source": cat.name,
                "venues": list(cat.venues) + ([AGGREGATE] if cat.series else []),
                "symbols": list(cat.symbols),
                "data_from_ms": min((s.first_ts_ms for s in cat.series), default=0),
                "data_to_ms": max((s.last_ts_ms for s in cat.series), default=0),
                "data_version": cat.version, "lookbacks": list(LOOKBACKS_MS),
                "admin_enabled": bool(svc.admin_token),
                "level_watch": bool(getattr(svc.source, "keeps_level_watch", bool)()),
                "venues_by_symbol": {s: list(cat.venues_for(s)) for s in cat.symbols}}

    @app.get(f"{API}/scorecard", response_model=sc.ScorecardOut, tags=["meta"],
             responses={404: {"model": sc.ErrorOut}})
    async def scorecard(
            venue: str | None = Query(None, description="venue of the stored predictions "
                                      "(default: the only one stored)"),
            symbol: str | None = Query(None, description="symbol of the stored predictions"),
            since_ms: int | None = Query(None, description="score predictions from this "
                                         "Unix ms on"),
            until_ms: int | None = Query(None, description="score predictions before this "
                                         "Unix ms")):
        """The running scorecard (``running``) when the source is a store holding the live
        map's predictions (``liqmap live --db``, ``liqmap serve --live --db``): the last
        24 h, 7 d, 30 d and all of ``[since_ms, until_ms)``, as ``liqmap scorecard`` prints
        them. Otherwise the metrics written by ``liqmap backtest --out DIR``
        (``metrics-<W>.json``)."""
        running = await _running(svc, venue, symbol, since_ms, until_ms)
        if running:
            return {"running": running}
        files = sorted(svc.scorecard_dir.glob("metrics-*.json"))
        if not files:
            raise HTTPProblem(404, f"no scorecard in {svc.scorecard_dir}: run `make scorecard` "
                              "(or `liqmap backtest --out DIR` and serve with "
                              "--scorecard-dir DIR)")
        windows = {}
        for f in files:
            try:
                windows[f.stem[len("metrics-"):]] = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise HTTPProblem(404, f"{f} is unreadable ({exc}): re-run the backtest"
                                  ) from None
        return {"dir": str(svc.scorecard_dir), "windows": windows}

    @app.post(f"{API}/admin/refresh", response_model=sc.RefreshOut, tags=["admin"],
              responses={403: {"model": sc.ErrorOut}, 503: {"model": sc.ErrorOut}})
    async def refresh(authorization: str | None = Header(None)):
        """Drop every cached result and re-read the source (needs the admin token)."""
        svc.check_token(authorization)
        svc.clear()
        cat = await svc.guard.get()
        return {"status": "refreshed", "data_version": cat.version}


async def _running(svc: Service, venue, symbol, since_ms, until_ms) -> dict | None:
    """The running scorecard of the source's store (cached per data version), or None when
    the source has no store, or a store without predictions and none was asked for."""
    store = await svc.runtime.read("opening the store", svc.source.scorecard_store)
    if store is None:
        return None
    asked = any(v is not None for v in (venue, symbol, since_ms, until_ms))
    cat = await svc.guard.get()

    def compute() -> dict:
        if not asked and not stored_prediction_series(store):
            return {}  # an ingested store, never written by live: the files answer
        try:
            return running_scorecard(store, venue, symbol, since_ms=since_ms,
                                     until_ms=until_ms)
        except ConfigError:
            raise
        except InputError as exc:  # nothing stored for that series or span
            raise HTTPProblem(404, str(exc)) from None

    key = (("scorecard", venue, symbol, since_ms, until_ms), cat.version)
    return await svc.runtime.cached(svc.bodies, key, "computing the running scorecard",
                                    compute) or None


def create_app(source=None, *, scorecard_dir=None, admin_token: str | None = None,
               deadline_s: float = 2.0, catalog_ttl_s: float = 1.0,
               stream_poll_s: float = 1.0, heartbeat_s: float = 5.0,
               warm: bool = True, live=None, workers: int = 2,
               max_pending: int | None = None) -> FastAPI:
    """Build the API app.

    Parameters
    ----------
    source : DataSource, optional
        Where the data come from (default :class:`~liqmap.service.sources.BundledSource`).
    scorecard_dir : path, optional
        Folder with ``metrics-<W>.json`` from ``liqmap backtest --out`` (default
        ``./scorecard``).
    admin_token : str, optional
        Enables ``POST /api/v1/admin/refresh``; default ``$LIQMAP_ADMIN_TOKEN``; none: 403.
    deadline_s : float
        Longest a request waits for the source or a model run before answering 503.
    catalog_ttl_s : float
        How often the source's catalog (and data version) is re-read.
    stream_poll_s, heartbeat_s : float
        Version polling and heartbeat period of ``/api/v1/stream``.
    warm : bool
        Compute the default view at startup.
    live : object, optional
        Background work with ``start()`` and ``stop()`` run for the app's lifetime: a
        :class:`~liqmap.service.live_source.LiveFeed` appending to ``source`` (a
        :class:`~liqmap.service.live_source.LiveSource`) for ``liqmap serve --live``.
    workers, max_pending : int
        Threads of the computation pool and the most computations queued or running
        (default ``8 * workers``); a request for one more answers 503 at once. Catalog
        reads have their own pool, and cached views are answered without either.
    """
    src = source if source is not None else BundledSource()
    rt = Runtime(deadline_s=deadline_s, workers=workers, max_pending=max_pending)
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    svc = Service(src, rt, CatalogGuard(src, rt, catalog_ttl_s),
                  Path(scorecard_dir or "scorecard"), token or None, stream_poll_s,
                  heartbeat_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if live is not None:
            live.start()
        task = asyncio.create_task(_warm(svc)) if warm else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            if live is not None:
                await asyncio.to_thread(live.stop)
            rt.close()

    app = FastAPI(title="liqmap API", version="1", lifespan=lifespan,
                  description=__doc__.split("\n\n>>>")[0])
    app.state.service = svc
    _error_handlers(app)
    _meta_routes(app, svc)
    data_routes(app, svc)
    scan_routes(app, svc)
    stream_routes(app, svc)
    _static_routes(app)
    return app


async def _warm(svc: Service) -> None:
    """Compute the default view in the background (errors are left to the first request)."""
    with contextlib.suppress(Exception):
        await svc.view(None, None, DEFAULT_LOOKBACK)

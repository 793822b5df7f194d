"""``liqmap serve``: run the JSON API and the dashboard (uvicorn).

``liqmap serve --live --venue binance --symbol BTC/USDT:USDT`` streams closed bars into the
server's memory (:mod:`liqmap.service.live_source`) and pushes each one over
``/api/v1/stream``; the venue options are those of ``liqmap live``.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import typer

from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

__all__ = ["register", "build_live", "build_source", "check_port", "is_loopback"]

LIVE = o.live("Stream --venue/--symbol bars into memory and "
              "push each closed bar over /api/v1/stream (with --db: also write there).")
DB = o.db("DuckDB store to serve (read-only). Default: $LIQMAP_DB or ./liqmap.duckdb if "
          "present, else the bundled sample. With --live: the file the streamed bars are also "
          "written to.")
LIVE_WARM = o.warm_bars(2016, "With --live: closed bars fetched over REST before streaming "
                        "(2016 = 7 days of 5m bars).")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(port: int) -> int:
    """``port`` if it is a TCP port (1..65535), else :class:`ConfigError` (0, "any free
    port", is refused too: the announced address would not be the one served)."""
    from liqmap._exceptions import ConfigError

    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port}: a TCP port is 1..65535 (0 is not accepted: the "
                          "announced address would not be the one served); e.g. --port 8000")
    return port


def build_source(db: Path | None, sample: str | None):
    """The data source: ``--db``, else ``$LIQMAP_DB`` or ``./liqmap.duckdb`` when present,
    else the bundled sample."""
    from liqmap.service.sources import BundledSource, StoreSource
    from liqmap.store import DEFAULT_DB

    if db is None and sample is None:
        env = os.environ.get("LIQMAP_DB")
        if env or Path(DEFAULT_DB).is_file():
            db = Path(env or DEFAULT_DB)
    if db is None:
        return BundledSource(sample)
    return StoreSource.from_path(db, read_only=True)


def build_live(*, venues, symbol, timeframe, warm_bars, ws_urls, rest_urls, stall_s, now,
               db: Path | None = None, max_bars: int | None = None,
               snapshot_every: int = 12):
    """A :class:`LiveSource` and the :class:`LiveFeed` that fills it (not started).

    With ``db`` the bars, each bar's predictions, realized liquidations and map snapshots
    (every ``snapshot_every`` bars) are also written to that DuckDB file (this process is
    then its only writer), and ``/api/v1/scorecard`` serves its running scorecard.
    """
    from liqmap.live.runner import LiveRunner, venue_feeds
    from liqmap.live.sinks import StoreSink, TeeSink
    from liqmap.model import LiquidationModel
    from liqmap.service.live_source import LiveFeed, LiveSink, LiveSource

    feeds = venue_feeds(list(venues), symbol, timeframe, ws_urls=ws_urls, rest_urls=rest_urls)
    src = LiveSource(name=f"live:{','.join(venues)}")
    sink: LiveSink | TeeSink = src.sink()
    store_sink = None
    if db is not None:
        from liqmap.store import DuckDBStore

        store_sink = StoreSink(DuckDBStore(db), params={"command": "serve --live"},
                               snapshot_every=snapshot_every)
        src.store = store_sink.store  # the running scorecard reads it (same process)
        sink = TeeSink(sink, store_sink)  # memory first: a failing store cannot hide a bar
    now_ms = parse_time_ms(now)
    runner = LiveRunner(feeds, LiquidationModel(), warm_bars=warm_bars, max_bars=max_bars,
                        stall_s=stall_s, sink=sink,
                        clock_ms=(lambda: now_ms) if now_ms is not None else None)

    def on_exit() -> None:
        if store_sink is None:
            return
        try:
            for m in runner.models.values():
                store_sink.snapshot(m)
            store_sink.store.record_run("serve-live", {"venues": list(venues),
                                                       "symbol": symbol},
                                        {"bars": {v: len(runner.bars(v)) for v in runner.models},
                                         "gaps": len(src.gaps)})
        finally:
            store_sink.store.close()

    return src, LiveFeed(runner, src, on_exit=on_exit)


def _check_source(src) -> None:
    """Fail now on a wrong source (InputError); only warn when it is busy (RetryLaterError)."""
    from liqmap._exceptions import RetryLaterError

    try:
        src.catalog()
    except RetryLaterError as exc:
        print(f"liqmap serve: warning: the store is not readable yet ({exc}); the API "
              "answers 503 until it is", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by "
                                 "default; anything else exposes the API to the network)."),
        port: int = typer.Option(8000, "--port", help="TCP port, 1..65535."),
        db: Path | None = DB,
        sample: str | None = o.sample(None, "Bundled sample to serve when there is no store."),
        scorecard_dir: str = o.scorecard_dir("Folder written by `liqmap backtest --out`."),
        admin_token: str | None = typer.Option(None, "--admin-token", help="Enable POST "
                                                  "/api/v1/admin/refresh with this bearer "
                                                  "token (or set LIQMAP_ADMIN_TOKEN)."),
        deadline_s: float = typer.Option(2.0, "--deadline", help="Seconds a request waits "
                                         "for the store before answering 503."),
        live: bool = LIVE, venue: list[str] = o.STREAM_VENUES, symbol: str = o.STREAM_SYMBOL,
        timeframe: str = o.TIMEFRAME, warm_bars: int = LIVE_WARM,
        ws_url: list[str] | None = o.WS_URL, rest_url: list[str] | None = o.REST_URL,
        stall_s: float = o.STALL, now: str | None = o.NOW,
        snapshot_every: int = o.SNAPSHOT_EVERY,
    ) -> None:
        """Serve the JSON API (/api/v1, docs at /docs) and the dashboard (/)."""
        import uvicorn

        from liqmap._exceptions import ConfigError
        from liqmap.service import create_app

        check_port(port)
        if not is_loopback(host):
            print(f"liqmap serve: warning: binding to {host} exposes the API beyond this "
                  "machine; it has no authentication for reads", file=sys.stderr)
        feed = None
        if live:
            if sample is not None:
                raise ConfigError("--sample serves a bundled file; drop it with --live")
            src, feed = build_live(venues=venue, symbol=symbol, timeframe=timeframe,
                                   warm_bars=warm_bars, ws_urls=ws_url, rest_urls=rest_url,
                                   stall_s=stall_s, now=now, db=db,
                                   snapshot_every=snapshot_every)
        else:
            src = build_source(db, sample)
            _check_source(src)
        app_ = create_app(src, scorecard_dir=scorecard_dir, admin_token=admin_token,
                          deadline_s=deadline_s, live=feed)
        print(f"liqmap serve: http://{host}:{port}/ (API docs at /docs), source "
              f"{getattr(src, 'name', type(src).__name__)}", file=sys.stderr)
        uvicorn.run(app_, host=host, port=port, log_level="warning")

"""``liqmap serve``: run the JSON API and the dashboard (uvicorn)."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Optional

import typer

__all__ = ["register", "build_source", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_source(db: Optional[Path], sample: Optional[str]):
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
        port: int = typer.Option(8000, "--port", help="TCP port."),
        db: Optional[Path] = typer.Option(None, "--db", help="DuckDB store to serve (read-only)."
                                          " Default: $LIQMAP_DB or ./liqmap.duckdb if present, "
                                          "else the bundled sample."),
        sample: Optional[str] = typer.Option(None, "--sample", help="Bundled sample to serve "
                                             "when there is no store."),
        scorecard_dir: Path = typer.Option(Path("scorecard"), "--scorecard-dir",
                                           help="Folder written by `liqmap backtest --out`."),
        admin_token: Optional[str] = typer.Option(None, "--admin-token", help="Enable POST "
                                                  "/api/v1/admin/refresh with this bearer "
                                                  "token (or set LIQMAP_ADMIN_TOKEN)."),
        deadline_s: float = typer.Option(2.0, "--deadline", help="Seconds a request waits "
                                         "for the store before answering 503."),
    ) -> None:
        """Serve the JSON API (/api/v1, docs at /docs) and the dashboard (/)."""
        import uvicorn

        from liqmap.service import create_app

        if not is_loopback(host):
            print(f"liqmap serve: warning: binding to {host} exposes the API beyond this "
                  "machine; it has no authentication for reads", file=sys.stderr)
        src = build_source(db, sample)
        _check_source(src)
        app_ = create_app(src, scorecard_dir=scorecard_dir, admin_token=admin_token,
                          deadline_s=deadline_s)
        print(f"liqmap serve: http://{host}:{port}/ (API docs at /docs), source "
              f"{getattr(src, 'name', type(src).__name__)}", file=sys.stderr)
        uvicorn.run(app_, host=host, port=port, log_level="warning")

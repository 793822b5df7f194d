"""Loopback servers for the venue tests: no test here touches the network.

* ``archive_site``: a temp folder laid out as data.binance.vision (real-format zips built
  from the real CSVs of ``tests/fixtures`` with correct ``.CHECKSUM`` siblings), served by
  a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, with a request log and scripted
  failures (``fail[path] = [500, 500]`` answers those statuses first).
* ``bybit_server`` / ``hyperliquid_server``: the venues' REST endpoints answering with the
  recorded-shape JSON of ``tests/fixtures/venues`` (see its README), filtered by the
  request's time parameters as the venues do.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VENUE_FIXTURES = FIXTURES / "venues"
UM = "data/futures/um"


class Loopback:
    """A threaded HTTP server on 127.0.0.1:0 answering through ``self.answer``."""

    def __init__(self, answer):
        self.answer = answer
        self.log: list[tuple[str, str, int]] = []  # (method, path?query, status)
        self.fail: dict[str, list[int]] = {}       # path -> statuses to answer first
        self.headers: dict[str, dict] = {}         # path -> extra headers for failures
        self.bodies: list[bytes] = []              # request bodies of POSTs
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if method == "POST":
                    server.bodies.append(body)
                url = urlsplit(self.path)
                queued = server.fail.get(url.path)
                if queued:
                    status, payload, hdrs = queued.pop(0), b"busy", server.headers.get(url.path, {})
                else:
                    status, payload, hdrs = server.answer(method, url.path,
                                                          parse_qs(url.query), body)
                server.log.append((method, self.path, status))
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def paths(self, status: int | None = None) -> list[str]:
        return [p for _, p, s in self.log if status is None or s == status]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the archive -----------------------------------------------------------------------
def make_zip(csv_name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(csv_name, data)
    return buf.getvalue()


def publish(root: Path, relpath: str, csv_bytes: bytes, *, zip_bytes: bytes | None = None,
            sha: str | None = None) -> bytes:
    """Put ``relpath`` (a .zip) and its .CHECKSUM under ``root``; return the zip bytes."""
    name = relpath.rsplit("/", 1)[1]
    body = zip_bytes if zip_bytes is not None else make_zip(name[:-4] + ".csv", csv_bytes)
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    digest = sha or hashlib.sha256(body).hexdigest()
    (root / (relpath + ".CHECKSUM")).write_text(f"{digest}  {name}\n")
    return body


def archive_answer(root: Path):
    def answer(method, path, query, body):
        f = root / path.lstrip("/")
        if method == "GET" and f.is_file():
            return 200, f.read_bytes(), {}
        return 404, b"<Error><Code>NoSuchKey</Code></Error>", {}
    return answer


@pytest.fixture
def archive_site(tmp_path):
    """Archive with BTCUSDT 5m klines + metrics for 2025-12-01/02, fundingRate 2025-12,
    a liquidationSnapshot for 2025-12-27; 2025-12-03 is not published."""
    root = tmp_path / "site"
    sym = "BTCUSDT"
    for day in ("2025-12-01", "2025-12-02"):
        publish(root, f"{UM}/daily/klines/{sym}/5m/{sym}-5m-{day}.zip",
                (FIXTURES / f"{sym}-5m-{day}.csv").read_bytes())
        publish(root, f"{UM}/daily/metrics/{sym}/{sym}-metrics-{day}.zip",
                (FIXTURES / f"{sym}-metrics-{day}.csv").read_bytes())
    publish(root, f"{UM}/monthly/fundingRate/{sym}/{sym}-fundingRate-2025-12.zip",
            (FIXTURES / f"{sym}-fundingRate-2025-12.csv").read_bytes())
    publish(root, f"{UM}/daily/liquidationSnapshot/{sym}/{sym}-liquidationSnapshot-2025-12-27.zip",
            (FIXTURES / f"{sym}-liquidationSnapshot-2025-12-27.csv").read_bytes())
    server = Loopback(archive_answer(root))
    server.root = root
    server.publish = lambda relpath, csv_bytes, **kw: publish(root, relpath, csv_bytes, **kw)
    server.make_zip = make_zip
    yield server
    server.close()


# -- ccxt venues ------------------------------------------------------------------------
def _load(name: str):
    return json.loads((VENUE_FIXTURES / name).read_text())


def _q(query: dict, key: str, default=None):
    return query[key][0] if key in query else default


def _window(rows, ts_of, query, start_key, end_key, limit_default):
    lo = int(_q(query, start_key, 0))
    hi = int(_q(query, end_key, 2**62))
    picked = sorted((r for r in rows if lo <= ts_of(r) <= hi), key=ts_of, reverse=True)
    return picked[: int(_q(query, "limit", limit_default))]  # newest first, as Bybit


def _bybit_ok(result: dict) -> tuple[int, bytes, dict]:
    return 200, json.dumps({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                            "time": 1764633600000}).encode(), {"Content-Type": "application/json"}


def bybit_answer():
    instruments = _load("bybit_instruments_info_linear.json")
    kline = _load("bybit_kline_linear_BTCUSDT_5.json")["result"]
    oi = _load("bybit_open_interest_linear_BTCUSDT_5min.json")["result"]
    funding = _load("bybit_funding_history_linear_BTCUSDT.json")["result"]
    risk = _load("bybit_risk_limit_linear_BTCUSDT.json")

    def answer(method, path, query, body):
        cat = _q(query, "category")
        if path == "/v5/market/instruments-info":
            if cat == "linear" and _q(query, "status") != "PreLaunch":
                return 200, json.dumps(instruments).encode(), {}
            return _bybit_ok({"category": cat, "list": [], "nextPageCursor": ""})
        if _q(query, "symbol") not in (None, "BTCUSDT"):
            return 200, json.dumps({"retCode": 10001, "retMsg": "params error: symbol invalid",
                                    "result": {}, "retExtInfo": {}, "time": 0}).encode(), {}
        if path == "/v5/market/kline":
            rows = _window(kline["list"], lambda r: int(r[0]), query, "start", "end", 200)
            return _bybit_ok({**kline, "list": rows})
        if path == "/v5/market/open-interest":
            rows = _window(oi["list"], lambda r: int(r["timestamp"]), query, "startTime",
                           "endTime", 50)
            return _bybit_ok({**oi, "list": rows})
        if path == "/v5/market/funding/history":
            rows = _window(funding["list"], lambda r: int(r["fundingRateTimestamp"]), query,
                           "startTime", "endTime", 200)
            return _bybit_ok({**funding, "list": rows})
        if path == "/v5/market/risk-limit":
            return 200, json.dumps(risk).encode(), {}
        return 404, b"{}", {}
    return answer


def hyperliquid_answer():
    candles = _load("hyperliquid_candle_snapshot_BTC_5m.json")
    meta = _load("hyperliquid_meta_and_asset_ctxs.json")
    spot = _load("hyperliquid_spot_meta.json")

    def answer(method, path, query, body):
        if method != "POST" or path != "/info":
            return 404, b"{}", {}
        req = json.loads(body or b"{}")
        kind = req.get("type")
        if kind == "spotMeta":
            return 200, json.dumps(spot).encode(), {}
        if kind == "metaAndAssetCtxs":
            return 200, json.dumps(meta).encode(), {}
        if kind == "candleSnapshot":
            r = req["req"]
            rows = [c for c in candles if r["startTime"] <= c["t"] <= r["endTime"]
                    and r["coin"] == "BTC" and r["interval"] == "5m"]
            return 200, json.dumps(rows[:5000]).encode(), {}
        return 422, b"Failed to deserialize the JSON body", {}
    return answer


@pytest.fixture
def bybit_server():
    server = Loopback(bybit_answer())
    yield server
    server.close()


@pytest.fixture
def hyperliquid_server():
    server = Loopback(hyperliquid_answer())
    yield server
    server.close()


class RecordingStore:
    """A minimal ``liqmap.store._base.Store``: records each write call (one per day)."""

    def __init__(self):
        self.bars_calls, self.realized_calls = [], []

    def write_bars(self, bars):
        self.bars_calls.append(bars)
        return len(bars)

    def read_bars(self, venue, symbol, start_ms=None, end_ms=None):
        raise NotImplementedError

    def write_realized(self, liq):
        self.realized_calls.append(liq)
        return len(liq)

    def read_realized(self, venue, symbol, start_ms=None, end_ms=None):
        raise NotImplementedError

    def write_snapshot(self, snap):
        raise NotImplementedError

    def read_snapshots(self, venue, symbol, start_ms=None, end_ms=None):
        raise NotImplementedError

    def write_predictions(self, rows):
        raise NotImplementedError

    def read_predictions(self, venue, symbol, start_ms=None, end_ms=None):
        raise NotImplementedError

    def record_run(self, kind, params, summary):
        raise NotImplementedError

    def list_runs(self, kind=None):
        return []

    def series(self):
        return []

    def close(self):
        pass


@pytest.fixture
def recording_store():
    return RecordingStore()

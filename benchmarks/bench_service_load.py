"""Load benchmark of the JSON API on loopback: 50 closed-loop clients, cached views.

Starts the app of ``liqmap serve`` with uvicorn in a **separate process** on 127.0.0.1
(the bundled sample, ``--db FILE``, or ``--bars N``: a temporary DuckDB store of ``N``
synthetic 1-minute bars over three venues, generated first and timed), warms the views,
then runs ``--clients`` closed-loop clients for ``--seconds``: each keeps one keep-alive
connection, asks for gzip as browsers do (``--identity``: plain JSON) and sends its next
request as soon as the previous answer is read, drawing
``/api/v1/heatmap`` (40 %), ``/api/v1/map`` (40 %) and ``/api/v1/health`` (the catalog:
venues, symbols, span, data version; 20 %). ``--heavy-clients K`` of them instead ask
for maps at random earlier times (``at_ms``), a view never cached, so the computation pool
stays busy all along; their 503s ("busy") are counted apart, as the shedding they are.

Prints p50/p90/p99/max per endpoint, errors, requests/s, body sizes, and p99 over the
target (:data:`TARGET_P99_MS`). Exits 1 when heatmap, map or health miss the p99 target
or any of them errors: a load check, run by hand or by ``make bench``, never in the tests.

Run: ``.venv/bin/python benchmarks/bench_service_load.py [--seconds 20] [--bars 3000000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

TARGET_P99_MS = 250.0
HOST = "127.0.0.1"  # loopback only, for the server and the clients
SERVER = ("import sys, uvicorn; from liqmap.service import create_app; "
          "from liqmap.cli.cmd_serve import build_source; from pathlib import Path; "
          "db = sys.argv[2] or None; kw = {'workers': int(sys.argv[3])} if sys.argv[3] else {}; "
          "src = build_source(Path(db) if db else None, None); "
          "uvicorn.run(create_app(src, **kw), host='127.0.0.1', port=int(sys.argv[1]), "
          "log_level='warning')")
MIX = (("heatmap", 0.4), ("map", 0.4), ("health", 0.2))
TARGETED = ("heatmap", "map", "health")
REQUEST_TIMEOUT_S = 30.0
VENUES = ("binance", "bybit", "okx")


# ------------------------------------------------------------------------ the store

def make_store(path: Path, bars: int, seed: int = 1) -> float:
    """Write ``bars`` synthetic 1-minute BTC bars, split over :data:`VENUES`; return seconds."""
    from liqmap.core.bars import Bars
    from liqmap.store import DuckDBStore

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    per = bars // len(VENUES)
    end_ms = 1_767_225_600_000  # 2026-01-01 UTC
    with DuckDBStore(path) as store:
        for venue in VENUES:
            ts = end_ms - 60_000 * np.arange(per, 0, -1, dtype=np.int64)
            close = 90_000 * np.exp(np.cumsum(rng.normal(0, 4e-4, per)))
            open_ = np.r_[close[0], close[:-1]]
            vol = rng.uniform(50, 500, per)
            store.write_bars(Bars(
                ts_ms=ts, open=open_, close=close,
                high=np.maximum(open_, close) * (1 + rng.uniform(0, 3e-4, per)),
                low=np.minimum(open_, close) * (1 - rng.uniform(0, 3e-4, per)),
                open_interest=80_000 * np.exp(np.cumsum(rng.normal(0, 2e-4, per))),
                volume=vol, taker_buy_volume=vol * rng.uniform(0.3, 0.7, per),
                funding_rate=np.full(per, 1e-4), venue=venue, symbol="BTC/USDT:USDT",
                source=f"synthetic {venue}"))
    return time.perf_counter() - t0


# ------------------------------------------------------------------------ the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(db: str | None, workers: int | None = None,
                 wait_s: float = 120.0) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), db or "",
                             str(workers or "")],
                            env={**os.environ, "LIQMAP_ADMIN_TOKEN": ""})
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not answer /api/v1/health within {wait_s:g} s")


def warm(base: str, paths: dict[str, str], wait_s: float = 300.0) -> dict[str, int]:
    """Ask each path until it answers 200 (views are computed once); body sizes in bytes."""
    sizes = {}
    deadline = time.monotonic() + wait_s
    for name, path in paths.items():
        while True:
            r = httpx.get(base + path, timeout=REQUEST_TIMEOUT_S)
            if r.status_code == 200:
                sizes[name] = len(r.content)
                break
            if r.status_code != 503 or time.monotonic() > deadline:
                raise SystemExit(f"{path} never answered 200: {r.status_code} {r.text[:200]}")
            time.sleep(0.2)
    return sizes


def data_times(base: str) -> np.ndarray:
    """Bar times a heavy client may ask a map at (inside the default view's data)."""
    h = httpx.get(f"{base}/api/v1/health", timeout=REQUEST_TIMEOUT_S).json()
    hi = int(h["data_to_ms"])
    return hi - 300_000 * np.arange(12, 2_000)  # earlier 5-minute marks, never the last bar


# ------------------------------------------------------------------------ the clients

class Record:
    """Latencies (ms), statuses and bytes per endpoint name."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {}
        self.bytes: dict[str, int] = {}
        self.shed: dict[str, int] = {}
        self.errors: list[str] = []

    def add(self, name: str, ms: float, status: int, size: int) -> None:
        if status == 200:
            self.ms.setdefault(name, []).append(ms)
            self.bytes[name] = size
        elif status == 503 and name == "heavy":
            self.shed[name] = self.shed.get(name, 0) + 1
        else:
            self.errors.append(f"{name}: HTTP {status}")


async def _get(reader, writer, request: bytes) -> tuple[int, int]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status, length = int(head[9:12]), None
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("answer without Content-Length")
    return status, len(await reader.readexactly(length))


async def _client(port: int, stop_at: float, pick, rec: Record, gzip: bool) -> None:
    """One closed-loop client: next request as soon as the last answer is read."""
    conn = None
    accept = "Accept-Encoding: gzip\r\n" if gzip else ""
    while time.perf_counter() < stop_at:
        name, path = pick()
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{accept}\r\n".encode()
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.open_connection(HOST, port)
            status, size = await asyncio.wait_for(_get(*conn, request), REQUEST_TIMEOUT_S)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            rec.errors.append(f"{name}: {type(exc).__name__} {exc}")
            if conn is not None:
                conn[1].close()
            conn = None
            await asyncio.sleep(0.05)  # a server gone: do not spin until stop_at
            continue
        rec.add(name, (time.perf_counter() - t0) * 1000.0, status, size)
    if conn is not None:
        conn[1].close()


async def drive(port: int, paths: dict[str, str], clients: int, heavy: int, seconds: float,
                at_ms: np.ndarray, gzip: bool = True, seed: int = 0) -> tuple[Record, float]:
    rec = Record()
    names, weights = zip(*MIX)

    def mixed(rng):
        return lambda: (name := rng.choices(names, weights)[0], paths[name])

    times = [int(t) for t in at_ms]
    sep = "&" if "?" in paths["map"] else "?"

    def heavy_pick(rng):
        return lambda: ("heavy", f"{paths['map']}{sep}at_ms={rng.choice(times)}")

    t0 = time.perf_counter()
    stop_at = t0 + seconds
    tasks = [_client(port, stop_at, (heavy_pick if i < heavy else mixed)(
        random.Random(seed + i)), rec, gzip) for i in range(clients)]
    await asyncio.gather(*tasks)
    return rec, time.perf_counter() - t0


def stats(ms: list[float]) -> dict:
    a = np.asarray(ms) if ms else np.array([np.nan])
    return {"count": len(ms), "p50_ms": float(np.percentile(a, 50)),
            "p90_ms": float(np.percentile(a, 90)), "p99_ms": float(np.percentile(a, 99)),
            "max_ms": float(np.max(a))}


# ------------------------------------------------------------------------ main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the load (s)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent closed-loop clients")
    ap.add_argument("--heavy-clients", type=int, default=0,
                    help="of the clients, how many ask for uncached maps (at_ms)")
    ap.add_argument("--bars", type=int, default=0,
                    help="serve a temporary DuckDB store of this many bars (e.g. 3000000)")
    ap.add_argument("--db", default=None, help="serve this DuckDB store (default: bundled)")
    ap.add_argument("--query", default="", help="extra query for heatmap/map, e.g. "
                    "'lookback=30d&venue=aggregate'")
    ap.add_argument("--identity", action="store_true",
                    help="ask for plain JSON (default: Accept-Encoding: gzip, as browsers do)")
    ap.add_argument("--workers", type=int, default=None,
                    help="threads of the server's computation pool (default: the app's)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.clients <= 1000:
        ap.error("--seconds must be in (0, 3600] and --clients in (0, 1000]")
    if not 0 <= args.heavy_clients < args.clients:
        ap.error("--heavy-clients must be >= 0 and below --clients")
    q = f"?{args.query}" if args.query else ""
    paths = {"heatmap": f"/api/v1/heatmap{q}", "map": f"/api/v1/map{q}",
             "health": "/api/v1/health"}
    with tempfile.TemporaryDirectory(prefix="liqmap-bench-") as tmp:
        db, gen_s = args.db, None
        if args.bars:
            db = str(Path(tmp) / "store.duckdb")
            gen_s = make_store(Path(db), args.bars)
            print(f"generated {args.bars} bars into {db} in {gen_s:.1f} s", flush=True)
        proc, base = start_server(db, args.workers)
        try:
            t0 = time.perf_counter()
            sizes = warm(base, paths)
            warm_s = time.perf_counter() - t0
            at_ms = data_times(base)
            rec, wall = asyncio.run(drive(int(base.rsplit(":", 1)[1]), paths, args.clients,
                                          args.heavy_clients, args.seconds, at_ms,
                                          gzip=not args.identity))
        finally:
            proc.terminate()
            proc.wait(10)
    out = _summary(args, rec, wall, sizes, gen_s, warm_s)
    _print(out, args.json)
    return 0 if out["targets_met"] else 1


def _summary(args, rec: Record, wall: float, sizes, gen_s, warm_s) -> dict:
    done = sum(len(v) for v in rec.ms.values()) + sum(rec.shed.values()) + len(rec.errors)
    out = {"clients": args.clients, "heavy_clients": args.heavy_clients,
           "seconds": args.seconds, "store_bars": args.bars or None, "generate_s": gen_s,
           "warm_s": warm_s, "requests": done, "requests_per_s": done / wall,
           "errors": len(rec.errors), "first_errors": rec.errors[:5], "shed_503": rec.shed,
           "json_bytes": sizes, "wire_bytes": rec.bytes, "gzip": not args.identity,
           "target_p99_ms": TARGET_P99_MS, "endpoints": {}}
    for name in (*TARGETED, "heavy"):
        if name in rec.ms or name in TARGETED:
            s = stats(rec.ms.get(name, []))
            s["p99_over_target"] = s["p99_ms"] / TARGET_P99_MS
            out["endpoints"][name] = s
    out["targets_met"] = (not rec.errors and all(
        out["endpoints"][n]["count"] > 0 and out["endpoints"][n]["p99_over_target"] <= 1.0
        for n in TARGETED))
    return out


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['clients']} closed-loop clients ({out['heavy_clients']} on uncached maps) for "
          f"{out['seconds']:g} s: {out['requests']} requests, {out['requests_per_s']:.1f}/s, "
          f"errors {out['errors']}, shed 503 {out['shed_503'] or 0}; warm-up "
          f"{out['warm_s']:.1f} s")
    print(f"body bytes: JSON {out['json_bytes']}, on the wire "
          f"({'gzip' if out['gzip'] else 'identity'}) {out['wire_bytes']}")
    for name, s in out["endpoints"].items():
        print(f"{name:>8}: n={s['count']:>6}  p50 {s['p50_ms']:7.1f} ms  p90 {s['p90_ms']:7.1f}"
              f"  p99 {s['p99_ms']:7.1f}  max {s['max_ms']:7.1f}   p99/target "
              f"{s['p99_over_target']:.2f}")
    for e in out["first_errors"]:
        print("error:", e)
    print(f"targets (p99 <= {out['target_p99_ms']:g} ms on {', '.join(TARGETED)}, zero "
          f"errors): {'met' if out['targets_met'] else 'MISSED'}")


if __name__ == "__main__":
    raise SystemExit(main())

"""Load benchmark of the JSON API on loopback: open-loop heatmap + map traffic.

Starts ``liqmap serve``'s app (bundled sample, or ``--db``) with uvicorn in a **separate
process** on 127.0.0.1, warms it, then sends requests on a fixed schedule (open loop:
request ``i`` is due at ``t0 + i / rate`` whether or not earlier ones have answered),
alternating ``/api/v1/heatmap`` and ``/api/v1/map`` (default query: the dashboard's
default view). A light stream of ``/api/v1/health`` requests (``--probe-rate``) runs
alongside as the reference: the cheapest endpoint, under the same load, in the same run.

The client is a pool of threads (``--clients``), each with one keep-alive
``http.client`` connection, fed from the schedule. Latency is measured from the request's
*scheduled* time to the end of its body, so a client that falls behind counts against the
result (no coordinated omission).

Prints count, errors, achieved rate, p50/p90/p99/max per endpoint, and p99 against the
50 ms target and against the health reference. A benchmark, not a test: it never fails on
speed; it exits 1 only when a request errors.

Run: ``.venv/bin/python benchmarks/bench_service.py [--rate 200] [--seconds 60]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np

TARGET_P99_MS = 50.0
SERVER = ("import sys, uvicorn; from liqmap.service import create_app; "
          "from liqmap.cli.cmd_serve import build_source; from pathlib import Path; "
          "db = sys.argv[2] or None; "
          "src = build_source(Path(db) if db else None, None); "
          "uvicorn.run(create_app(src), host='127.0.0.1', port=int(sys.argv[1]), "
          "log_level='warning')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), db or ""],
                            env={**os.environ, "LIQMAP_ADMIN_TOKEN": ""})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


def warm(base: str, paths: list[str]) -> dict[str, int]:
    sizes = {}
    for p in paths:
        for _ in range(100):
            r = httpx.get(base + p, timeout=30)
            if r.status_code == 200:
                sizes[p] = len(r.content)
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"{p} never answered 200: {r.status_code} {r.text[:200]}")
    return sizes


def _worker(host, port, jobs, out, errors):
    """Take (due, path) jobs; wait until due; send on a persistent connection."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while True:
        job = jobs.get()
        if job is None:
            conn.close()
            return
        due, path = job
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            ok, what = resp.status == 200, resp.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            ok, what = False, repr(exc)
        done = time.perf_counter()
        if ok:
            out[path].append((done - due) * 1000.0)
        else:
            errors.append(f"{path}: {what}")


def drive(base, paths, rate, seconds, probe_path, probe_rate, clients):
    """Open-loop schedule over ``clients`` threads; latencies (ms) per path, errors, wall."""
    host, port = base.removeprefix("http://").split(":")
    lat = {p: [] for p in paths + [probe_path]}
    errors: list[str] = []
    sched = [(i / rate, paths[i % len(paths)]) for i in range(int(rate * seconds))]
    sched += [(i / probe_rate, probe_path) for i in range(int(probe_rate * seconds))]
    sched.sort()
    jobs: queue.Queue = queue.Queue()
    threads = [threading.Thread(target=_worker, args=(host, int(port), jobs, lat, errors))
               for _ in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter() + 0.2
    for offset, path in sched:  # feed jobs just ahead of time so idle workers pick them
        ahead = t0 + offset - time.perf_counter() - 0.05
        if ahead > 0:
            time.sleep(ahead)
        jobs.put((t0 + offset, path))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    return lat, errors, time.perf_counter() - t0


def stats(ms: list[float]) -> dict:
    a = np.asarray(ms) if ms else np.array([np.nan])
    return {"count": len(ms), "p50_ms": float(np.percentile(a, 50)),
            "p90_ms": float(np.percentile(a, 90)), "p99_ms": float(np.percentile(a, 99)),
            "max_ms": float(np.max(a))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=200.0, help="heatmap+map requests per s")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--probe-rate", type=float, default=10.0, help="health requests per s")
    ap.add_argument("--clients", type=int, default=32, help="client threads (connections)")
    ap.add_argument("--db", default=None, help="DuckDB store to serve (default: bundled)")
    ap.add_argument("--query", default="", help="extra query for heatmap/map, e.g. "
                    "'lookback=30d&resolution=300'")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    q = f"?{args.query}" if args.query else ""
    paths = [f"/api/v1/heatmap{q}", f"/api/v1/map{q}"]
    probe = "/api/v1/health"
    proc, base = start_server(args.db)
    try:
        sizes = warm(base, paths + [probe])
        lat, errors, wall = drive(base, paths, args.rate, args.seconds, probe,
                                  args.probe_rate, args.clients)
    finally:
        proc.terminate()
        proc.wait(10)
    main_ms = lat[paths[0]] + lat[paths[1]]
    out = {"rate_target": args.rate, "seconds": args.seconds,
           "requests": len(main_ms) + len(errors), "errors": len(errors),
           "achieved_rate": (len(main_ms) + len(errors)) / wall, "body_bytes": sizes,
           "heatmap+map": stats(main_ms), "heatmap": stats(lat[paths[0]]),
           "map": stats(lat[paths[1]]), "health_reference": stats(lat[probe])}
    p99, ref = out["heatmap+map"]["p99_ms"], out["health_reference"]["p99_ms"]
    out["p99_over_target"] = p99 / TARGET_P99_MS
    out["p99_over_health_p99"] = p99 / ref if ref > 0 else float("nan")
    out["first_errors"] = errors[:5]
    _print(out, args.json)
    return 1 if errors else 0


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['requests']} requests in {out['seconds']:g} s at target {out['rate_target']:g}"
          f"/s: achieved {out['achieved_rate']:.1f}/s, errors {out['errors']}")
    print(f"body bytes: {out['body_bytes']}")
    for name in ("heatmap+map", "heatmap", "map", "health_reference"):
        s = out[name]
        print(f"{name:>17}: n={s['count']:>6}  p50 {s['p50_ms']:7.2f} ms  p90 {s['p90_ms']:7.2f}"
              f"  p99 {s['p99_ms']:7.2f}  max {s['max_ms']:7.2f}")
    print(f"p99 / target {TARGET_P99_MS:g} ms = {out['p99_over_target']:.2f}   "
          f"p99 / health p99 = {out['p99_over_health_p99']:.2f}")
    for e in out["first_errors"]:
        print("error:", e)


if __name__ == "__main__":
    raise SystemExit(main())

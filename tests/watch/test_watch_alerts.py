"""Watcher: once-per-approach alerts, filters, callbacks; WebhookNotifier on a loopback server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from liqmap import ConfigError
from liqmap.core.records import Cluster, LiqMap
from liqmap.watch import Alert, AlertRule, Watcher, WebhookNotifier


def _cl(side, price, notional=1e8):
    return Cluster(side, price, notional, price - 10, price + 10, 0.0)


def test_fires_once_per_approach_then_rearms():
    got = []
    w = Watcher([AlertRule(distance_pct=1.0)], callbacks=[got.append])
    level = [_cl("long", 100.0)]
    prices = [105.0, 100.8, 100.5, 101.5, 100.9, 101.99, 100.2]  # never beyond 2 % -> 1 alert
    fired = [len(w.update(i, p, level)) for i, p in enumerate(prices)]
    assert fired == [0, 1, 0, 0, 0, 0, 0] and len(got) == 1
    a = got[0]
    assert (a.ts_ms, a.price_usd, a.cluster_price_usd, a.side) == (1, 100.8, 100.0, "long")
    assert a.distance_pct == pytest.approx((100 / 100.8 - 1) * 100)
    # move away beyond 2 x 1 % re-arms; the next approach fires again
    assert w.update(10, 102.5, level) == []
    assert len(w.update(11, 100.7, level)) == 1 and w.fired == 2


def test_shifted_peak_is_the_same_level():
    w = Watcher([AlertRule(distance_pct=1.0)])
    assert len(w.update(0, 100.5, [_cl("short", 101.0)])) == 1
    # the map updated and the peak moved by one bin: same approach, no new alert
    assert w.update(1, 100.6, [_cl("short", 101.3)]) == []
    # a different cluster further along fires on its own
    assert len(w.update(2, 101.2, [_cl("short", 101.3), _cl("short", 102.1)])) == 1


def test_filters_side_and_notional():
    w = Watcher([AlertRule(2.0, min_notional_usd=5e7, side="short")])
    cl = [_cl("long", 99.0, 1e9), _cl("short", 101.0, 1e7), _cl("short", 101.5, 6e7)]
    out = w.update(0, 100.0, cl)
    assert [(a.side, a.cluster_price_usd) for a in out] == [("short", 101.5)]


def test_map_input_and_bad_values():
    c = np.arange(90.0, 111.0)
    m = LiqMap(7, 100.0, c, np.where(c == 99, 5e6, 0.0), np.zeros(c.size))
    out = Watcher([AlertRule(1.5)]).update(8, 100.0, m)
    assert len(out) == 1 and out[0].map_ts_ms == 7 and out[0].cluster_price_usd == 99.0
    with pytest.raises(ConfigError, match="distance_pct"):
        AlertRule(0.0)
    with pytest.raises(ConfigError, match="side"):
        AlertRule(1.0, side="up")
    with pytest.raises(ConfigError, match="price_usd"):
        Watcher([AlertRule(1.0)]).update(0, float("nan"), [])


def test_failing_callback_is_counted_not_raised():
    seen = []

    def boom(alert):
        raise RuntimeError("down")

    w = Watcher([AlertRule(1.0)], callbacks=[boom, seen.append])
    w.update(0, 100.5, [_cl("long", 100.0)])
    assert w.callback_errors == 1 and len(seen) == 1


class _Capture(BaseHTTPRequestHandler):
    bodies: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        n = int(self.headers["Content-Length"])
        type(self).bodies.append((self.headers["Content-Type"], self.rfile.read(n)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    handler = type("H", (_Capture,), {"bodies": [], "status": 200})
    srv = HTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv, handler
    srv.shutdown()
    srv.server_close()


def _alert():
    return Alert(1_700_000_000_000, 100.5, 100.0, "long", 1.5e8, -0.4975, AlertRule(1.0), 123)


def test_webhook_posts_alert_json(server):
    srv, handler = server
    hook = WebhookNotifier(f"http://127.0.0.1:{srv.server_port}/alerts", timeout_s=5)
    assert hook(_alert()) is True and hook.sent == 1 and hook.failures == 0
    ctype, body = handler.bodies[0]
    assert ctype == "application/json"
    assert json.loads(body) == {
        "ts_ms": 1_700_000_000_000, "price_usd": 100.5, "cluster_price_usd": 100.0,
        "side": "long", "notional_usd": 1.5e8, "distance_pct": -0.4975,
        "rule": {"distance_pct": 1.0, "min_notional_usd": 0.0, "side": "both"},
        "map_ts_ms": 123}


def test_webhook_failures_are_counted(server):
    srv, handler = server
    handler.status = 500
    hook = WebhookNotifier(f"http://127.0.0.1:{srv.server_port}/x", timeout_s=5)
    assert hook(_alert()) is False and hook.failures == 1 and "500" in hook.last_error
    probe = HTTPServer(("127.0.0.1", 0), _Capture)
    port = probe.server_port
    probe.server_close()  # nothing listens there now
    dead = WebhookNotifier(f"http://127.0.0.1:{port}/x", timeout_s=2)
    w = Watcher([AlertRule(1.0)], callbacks=[dead])
    w.update(0, 100.5, [_cl("long", 100.0)])
    w.update(1, 99.0, [_cl("short", 99.5)])
    assert dead.failures == 2 and dead.sent == 0 and w.fired == 2 and w.callback_errors == 0
    with pytest.raises(ConfigError, match="http"):
        WebhookNotifier("ftp://x")

"""Snapshots through the Store interface, replay, and ``liqmap watch`` on the bundled sample."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liqmap.cli import main
from liqmap.core import mapstats
from liqmap.core.records import LiqMap
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel
from liqmap.watch import FrameMaps, record_snapshots, replay, snapshot_to_map

H = 3_600_000


class _FakeStore:
    """Minimal snapshot half of the Store interface (upsert on venue, symbol, ts_ms)."""

    def __init__(self):
        self.rows = {}

    def write_snapshot(self, snap):
        self.rows[(snap.venue, snap.symbol, snap.ts_ms)] = snap
        return 1

    def read_snapshots(self, venue, symbol, start_ms=None, end_ms=None):
        keep = [s for (v, sy, t), s in self.rows.items() if v == venue and sy == symbol
                and (start_ms is None or t >= start_ms) and (end_ms is None or t < end_ms)]
        return sorted(keep, key=lambda s: -s.ts_ms)  # deliberately unsorted

    def close(self):
        pass


def _store():
    try:
        from liqmap.store import DuckDBStore
    except ImportError:
        return _FakeStore()
    return DuckDBStore(":memory:")


@pytest.fixture(scope="module")
def bars():
    return load_sample().take(slice(0, 600))  # 50 hours of 5-minute bars


def test_record_and_replay_in_order(bars):
    store = _store()
    model = LiquidationModel(band="none")
    n = record_snapshots(model, bars, 4 * H, store)
    assert n == int(np.ceil(len(bars) / 48))
    snaps = list(replay(store, bars.venue, bars.symbol))
    ts = [s.ts_ms for s in snaps]
    assert len(snaps) == n and ts == sorted(ts) and ts[0] == int(bars.ts_ms[0])
    assert ts[-1] == int(bars.ts_ms[-1])
    # the last snapshot is the final map of a plain run over the same bars
    final = model.run(bars).final_map
    last = snapshot_to_map(snaps[-1])
    np.testing.assert_allclose(last.long_usd, final.long_usd, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(last.short_usd, final.short_usd, rtol=1e-12, atol=1e-6)
    assert last.price_usd == float(bars.close[-1]) and snaps[-1].params["leverage"]
    part = list(replay(store, bars.venue, bars.symbol, ts[1], ts[3]))
    assert [s.ts_ms for s in part] == ts[1:3]
    store.close()


def test_frame_maps_have_no_look_ahead(bars):
    fm = FrameMaps.build(LiquidationModel(), bars, every_bars=100)
    i = 2
    cut = int(fm.bar_idx[i]) + 1
    alone = LiquidationModel(band="none").run(bars.take(slice(0, cut)))
    m = fm.map(i)
    # same book on a different price grid (USD = coins x bin centre): totals agree closely
    assert m.price_usd == float(alone.bars.close[-1])
    assert np.sum(m.long_usd) == pytest.approx(np.sum(alone.final_map.long_usd), rel=1e-5)
    assert np.sum(m.short_usd) == pytest.approx(np.sum(alone.final_map.short_usd), rel=1e-5)
    final = fm.estimate.final_map  # the map after all bars differs by far more
    assert abs(np.sum(final.long_usd) / np.sum(m.long_usd) - 1) > 1e-3


def test_cli_watch_alerts_match_map_clusters(tmp_path, bars, capsys):
    b = bars
    path = tmp_path / "bars.csv"
    pd.DataFrame({"ts_ms": b.ts_ms, "open": b.open, "high": b.high, "low": b.low,
                  "close": b.close, "volume": b.volume, "open_interest": b.open_interest}
                 ).to_csv(path, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--input", str(path), "--distance-pct", "0.5", "--every", "1h",
              "--json"])
    assert exc.value.code in (0, None)
    captured = capsys.readouterr()
    alerts = [json.loads(x) for x in captured.out.splitlines()]
    assert len(alerts) >= 1
    assert json.loads(captured.err)["summary"]["alerts"] == len(alerts)
    # independent check: the book read after every bar, clusters of the map at map_ts_ms
    est = LiquidationModel(band="none", frames=len(b)).run(b)
    hm = est.heatmap
    for a in alerts[:10]:
        i = int(np.searchsorted(hm.ts_ms, a["map_ts_ms"]))
        assert hm.ts_ms[i] == a["map_ts_ms"] <= a["ts_ms"]
        m = LiqMap(int(hm.ts_ms[i]), float(b.close[i]), hm.price_bins_usd, hm.long_usd[i],
                   hm.short_usd[i])
        found = {(k.side, k.price_usd): k.notional_usd
                 for k in mapstats.clusters(m, a["side"], top=20, max_distance_pct=20.0)}
        assert found[(a["side"], a["cluster_price_usd"])] == pytest.approx(a["notional_usd"])
        t = int(np.searchsorted(b.ts_ms, a["ts_ms"]))
        assert a["price_usd"] == b.close[t] and abs(a["distance_pct"]) <= 0.5


def test_cli_watch_text_and_bad_period(capsys):
    with pytest.raises(SystemExit):
        main(["watch", "--distance-pct", "0.3", "--min-notional", "2e7", "--every", "4h"])
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith("(map every 48 bars)") and "alerts over 8779 bars" in out[-1]
    assert all("cluster" in x for x in out[:-1])
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--every", "soon"])
    assert exc.value.code == 2 and "15m, 1h" in capsys.readouterr().err

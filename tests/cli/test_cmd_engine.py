"""Engine commands end to end: heatmap, map, demo, show-config (no network)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqmap.cli import app, main
from liqmap.plots._style import plotly_js_name

runner = CliRunner()


def _bar_file(tmp_path, n=1500, fmt="csv"):
    rng = np.random.default_rng(2)
    close = 88_000 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    df = pd.DataFrame({
        "ts_ms": 1_764_547_200_000 + 300_000 * np.arange(n),
        "open": open_, "high": np.maximum(open_, close) * 1.001,
        "low": np.minimum(open_, close) * 0.999, "close": close,
        "volume": rng.gamma(2, 40, n),
        "open_interest": 85_000 + np.cumsum(rng.normal(0, 30, n)),
    })
    path = tmp_path / f"bars.{fmt}"
    df.to_parquet(path) if fmt == "parquet" else df.to_csv(path, index=False)
    return path


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_heatmap_json_reports_engine_time_imbalance_and_clusters(tmp_path, fmt):
    path = _bar_file(tmp_path, fmt=fmt)
    out = _json(runner.invoke(app, ["heatmap", "--input", str(path), "--out",
                                    str(tmp_path / "o"), "--json", "--lookback", "3d"]))
    assert out["engine_seconds"] > 0
    assert out["bars"] == 864  # 3 days of 5-minute bars
    imb = out["imbalance"]
    assert imb["ratio"] == pytest.approx(imb["short_usd"] / imb["long_usd"])
    assert out["map"]["clusters"]["long"] and out["map"]["clusters"]["short"]
    for key in ("heatmap_png", "heatmap_html", "map_png", "map_html"):
        assert (tmp_path / "o" / out["files"][key].split("/")[-1]).stat().st_size > 10_000


def test_map_at_time_with_custom_band_and_flags(tmp_path):
    path = _bar_file(tmp_path)
    out = _json(runner.invoke(app, [
        "map", "--input", str(path), "--at", "2025-12-03T00:00", "--up-pct", "10",
        "--down-pct", "5", "--leverage", "high-leverage", "--oi-policy", "net", "--no-plots",
        "--json"]))
    assert out["end_ms"] == 1_764_720_000_000
    assert out["params"]["leverage"] == "high-leverage" and out["params"]["oi_policy"] == "net"
    price = out["map"]["price_usd"]
    assert out["imbalance"]["short_to_usd"] == pytest.approx(price * 1.10)
    assert out["imbalance"]["long_from_usd"] == pytest.approx(price * 0.95)
    assert "files" not in out


def test_map_aggregates_venues_each_with_its_own_rules(tmp_path):
    path = _bar_file(tmp_path)
    # the same file twice is refused now (issue #11): the second venue gets its own file
    other = tmp_path / "other.csv"
    df = pd.read_csv(path)
    df["open_interest"] *= 0.9
    df.to_csv(other, index=False)
    one = _json(runner.invoke(app, ["map", "--input", f"{path}@binance", "--no-plots",
                                    "--json", "--band", "none"]))
    two = _json(runner.invoke(app, ["map", "--input", f"{path}@binance", "--input",
                                    f"{other}@hyperliquid", "--no-plots", "--json",
                                    "--band", "none"]))
    assert two["venues"] == ["binance", "hyperliquid"]
    agg = two["aggregate_map"]
    assert agg["venue"] == "aggregate"
    assert agg["total_long_usd"] > one["map"]["total_long_usd"] * 1.5


def test_demo_on_bundled_data_writes_plots(tmp_path):
    out = _json(runner.invoke(app, ["demo", "--out", str(tmp_path), "--json"]))
    assert out["source"].endswith("btcusdt-5m-2025-12.csv.gz") or "2025-12" in out["source"]
    assert out["bars"] == 8640  # 30 days of 5-minute bars
    assert out["map"]["total_long_usd"] > 0 and out["map"]["total_short_usd"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        "liqmap_heatmap.html", "liqmap_heatmap.png", "liqmap_map.html", "liqmap_map.png",
        plotly_js_name()])  # the pages' one shared copy of plotly.js


def test_human_output_prints_the_map_table(tmp_path):
    res = runner.invoke(app, ["map", "--no-plots", "--lookback", "7d"])
    assert res.exit_code == 0, res.output
    assert "imbalance shorts:longs" in res.stdout and "harvest level" in res.stdout
    assert "squeeze ceiling" in res.stdout and "flush floor" in res.stdout


def test_show_config_layers(tmp_path, monkeypatch):
    cfg = tmp_path / "liqmap.toml"
    cfg.write_text('[model]\nleverage = "peer-common"\nfr = 1\n')
    res = runner.invoke(app, ["show-config", "--config", str(cfg)])
    assert res.exit_code != 0 and "unknown keys ['fr']" in str(res.exception)
    cfg.write_text('[model]\nleverage = "peer-common"\noi_policy = "net"\n')
    monkeypatch.setenv("LIQMAP_OI_POLICY", "leverage-first")
    out = _json(runner.invoke(app, ["show-config", "--config", str(cfg), "--json"]))
    assert out["values"]["leverage"] == "peer-common"
    assert out["origin"]["leverage"].startswith("file")
    assert out["values"]["oi_policy"] == "leverage-first"
    assert out["origin"]["oi_policy"] == "env LIQMAP_OI_POLICY"
    assert out["origin"]["venue"] == "default"


@pytest.mark.parametrize("args, needle", [
    (["heatmap", "--input", "nope.csv"], "nope.csv"),
    (["map", "--leverage", "9000x"], "leverage preset"),
    (["map", "--lookback", "2w"], "lookback"),
    (["map", "--at", "yesterday"], "--at"),
])
def test_bad_input_exits_2_with_a_message(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args + ["--no-plots"])
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err

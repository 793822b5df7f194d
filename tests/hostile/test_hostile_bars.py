"""Hostile bar files that used to pass validation and give a silently wrong map.

Each case writes a real Binance sample slice (2 days of 5-minute bars) with one careless or
hostile change, runs ``liqmap map`` on it and checks what the user sees: exit code 2, the
file, the zero-based data row, the fix, and no traceback. The classes:

* a lone jump no market makes: open interest 10,000x (or 1/10,000) its neighbours, a price
  tick 100x off, at any row including the first and last (refused; ``--repair`` replaces
  it by its neighbours' value and reports it);
* open interest in the wrong unit (OKX contracts of 0.01 BTC given as base units, USD given
  as base, base declared as USD): refused naming the flag that fixes it;
* unreadable files (a truncated ``.csv.gz``, not gzip, binary, latin-1, empty, header only).

A genuine level shift (open interest doubling and staying) and a real-sized wick are
accepted.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from liqmap import ConfigError
from liqmap.core import mapstats
from liqmap.io.sample import load_sample
from liqmap.model import LiquidationModel

N_BARS = 576  # 2 days of 5-minute bars
PRICES = ["open", "high", "low", "close"]


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    """Real Binance BTCUSDT 5m bars (bundled sample, 2025-12-07 to 12-09), generic layout."""
    b = load_sample().take(slice(2000, 2000 + N_BARS))
    return pd.DataFrame({c: getattr(b, c) for c in ("ts_ms", *PRICES, "volume",
                                                    "open_interest")})


def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def _map(cli, path: str, *args: str):
    return cli(["map", "--input", path, *args, "--no-plots", "--json"])


def _scaled(row: int, cols, factor: float):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f = f.copy()
        f.loc[row, cols] = f.loc[row, cols] * factor
        return f
    return change


def _oi_times(factor: float):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f = f.copy()
        f["open_interest"] = (f["open_interest"] * factor).round(3)
        return f
    return change


SPIKE_FIX = "fix or drop the row, or pass --repair to replace it with its neighbours' value"

# (case, change, row, fragments)
SPIKES = [
    ("oi 10,000x mid-file", _scaled(300, "open_interest", 1e4), 300,
     ["open_interest", "10,00", "the level of its neighbours"]),
    ("oi 1/10,000 mid-file", _scaled(300, "open_interest", 1e-4), 300,
     ["open_interest", "below the level of its neighbours"]),
    ("oi dropout to zero", _scaled(300, "open_interest", 0.0), 300,
     ["open_interest 0 is", "below the level"]),
    ("oi two glitch rows", lambda f: _scaled(301, "open_interest", 1e4)(
        _scaled(300, "open_interest", 1e4)(f)), 300, ["open_interest", "1 more row"]),
    ("oi spike first row", _scaled(0, "open_interest", 1e4), 0, ["open_interest"]),
    ("oi spike last row", _scaled(N_BARS - 1, "open_interest", 1e4), N_BARS - 1,
     ["open_interest"]),
    ("high tick 100x", _scaled(123, "high", 100.0), 123, ["high", "100x"]),
    ("whole bar 100x", _scaled(123, PRICES, 100.0), 123, ["open", "100x"]),
    ("close only 100x", _scaled(123, "close", 100.0), 123, ["close", "100x"]),
    ("low tick 1/100", _scaled(123, "low", 0.01), 123, ["low", "100x below"]),
    ("decimal slip 1/10", _scaled(200, PRICES, 0.1), 200, ["open", "10x below"]),
    ("price spike first row", _scaled(0, PRICES, 100.0), 0, ["open"]),
    ("price spike last row", _scaled(N_BARS - 1, "high", 100.0), N_BARS - 1, ["high"]),
]


@pytest.mark.parametrize(("case", "change", "row", "fragments"), SPIKES,
                         ids=[c[0] for c in SPIKES])
def test_lone_jump_is_refused_with_file_row_value_and_fix(cli, refused, tmp_path, clean,
                                                          case, change, row, fragments):
    path = _write(change(clean), tmp_path / "bars.csv")
    res = _map(cli, path)
    refused(res, 2, f"{path}, row {row}:", "no market makes", SPIKE_FIX, *fragments)


UNITS = [
    ("okx contracts as base", _oi_times(100.0), "@okx", [],
     ["implausible for BTC on okx", "--oi-unit contracts --contract-size 0.01"]),
    ("okx contracts as base, default venue", _oi_times(100.0), "", [],
     ["implausible for BTC on binance", "--oi-unit contracts --contract-size SIZE",
      "0.01 on OKX"]),
    ("okx contracts, wrong contract size", _oi_times(100.0), "@okx",
     ["--oi-unit", "contracts", "--contract-size", "1"],
     ["check contract_size", "--contract-size 0.01"]),
    ("usd as base", lambda f: f.assign(open_interest=f["open_interest"] * f["close"]), "", [],
     ["implausibly large", "--oi-unit usd"]),
    ("base declared usd", lambda f: f, "", ["--oi-unit", "usd"],
     ["days of traded volume", "--oi-unit base"]),
    ("base declared usd, no volume", lambda f: f.drop(columns="volume"), "@okx",
     ["--oi-unit", "usd"], ["implausible for BTC on okx", "--oi-unit base"]),
    ("1000x contracts on bybit", _oi_times(1000.0), "@bybit", [],
     ["implausibl", "--oi-unit contracts --contract-size SIZE"]),
]


@pytest.mark.parametrize(("case", "change", "venue", "args", "fragments"), UNITS,
                         ids=[c[0] for c in UNITS])
def test_open_interest_in_the_wrong_unit_names_the_flag(cli, refused, tmp_path, clean, case,
                                                        change, venue, args, fragments):
    path = _write(change(clean), tmp_path / "bars.csv")
    res = _map(cli, path + venue, *args)
    refused(res, 2, path, *fragments)


def test_okx_contracts_with_the_named_flag_load(cli, tmp_path, clean):
    path = _write(_oi_times(100.0)(clean), tmp_path / "okx.csv")
    res = _map(cli, path + "@okx", "--oi-unit", "contracts", "--contract-size", "0.01")
    assert res.code == 0, res.err


def _gz_bytes(frame: pd.DataFrame) -> bytes:
    return gzip.compress(frame.to_csv(index=False).encode())


FILES = [
    ("truncated csv.gz", "bars.csv.gz", lambda f: _gz_bytes(f)[: len(_gz_bytes(f)) // 2],
     ["file is truncated or not gzip", "download it again"]),
    ("plain text named .gz", "bars.csv.gz", lambda f: f.to_csv(index=False).encode(),
     ["file is truncated or not gzip"]),
    ("corrupt gzip body", "bars.csv.gz",
     lambda f: _gz_bytes(f)[:30] + bytes(b ^ 0xFF for b in _gz_bytes(f)[30:60])
     + _gz_bytes(f)[60:], ["file is truncated or not gzip"]),
    ("binary file", "bars.csv", lambda f: bytes(range(256)) * 8, ["binary file"]),
    ("png named csv", "bars.csv", lambda f: b"\x89PNG\r\n\x1a\n" + bytes(200),
     ["binary file"]),
    ("latin-1 text", "bars.csv", lambda f: "ts_ms,open\n1764547200000,é\n".encode("latin-1"),
     ["not UTF-8 text", "save"]),
    ("empty file", "bars.csv", lambda f: b"", ["file is empty"]),
    ("empty gzip", "bars.csv.gz", lambda f: gzip.compress(b""), ["file is empty"]),
    ("header only", "bars.csv", lambda f: f.iloc[:0].to_csv(index=False).encode(),
     ["no data rows"]),
]


@pytest.mark.parametrize(("case", "name", "content", "fragments"), FILES,
                         ids=[c[0] for c in FILES])
def test_unreadable_file_is_refused_naming_it(cli, refused, tmp_path, clean, case, name,
                                              content, fragments):
    path = tmp_path / name
    path.write_bytes(content(clean))
    res = _map(cli, str(path))
    refused(res, 2, str(path), *fragments)


def test_truncated_gzip_through_the_entry_point(cli_subprocess, refused, tmp_path, clean):
    """The installed command printed a bare "Aborted." (click's answer to EOFError)."""
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(_gz_bytes(clean)[:2000])
    res = cli_subprocess(["map", "--input", str(path), "--no-plots", "--json"])
    refused(res, 2, str(path), "file is truncated or not gzip")
    assert "Aborted" not in res.err


ACCEPTED = [
    ("oi doubles and stays", lambda f: f.assign(open_interest=np.where(
        np.arange(len(f)) >= 300, 2 * f["open_interest"], f["open_interest"]))),
    ("oi halves over the last rows", lambda f: f.assign(open_interest=np.where(
        np.arange(len(f)) >= N_BARS - 8, 0.5 * f["open_interest"], f["open_interest"]))),
    ("price falls 30% and stays", lambda f: f.assign(**{c: np.where(
        np.arange(len(f)) >= 300, 0.7 * f[c], f[c]) for c in PRICES})),
    ("a 15% wick that reverts", _scaled(123, "low", 0.85)),
]


@pytest.mark.parametrize(("case", "change"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_market_moves_are_accepted(cli, tmp_path, clean, case, change):
    res = _map(cli, _write(change(clean), tmp_path / "bars.csv"))
    assert res.code == 0 and "Traceback" not in res.err, res.err
    assert json.loads(res.out)["repairs"] == []


def _ratio(bars) -> float:
    est = LiquidationModel().run(bars)
    return mapstats.imbalance(est.final_map, 0.2, 0.2).ratio


@pytest.mark.parametrize("row", [300, 500, 570])
def test_repair_restores_the_map_of_the_file_without_the_glitch(cli, tmp_path, clean, row):
    good = json.loads(_map(cli, _write(clean, tmp_path / "good.csv")).out)
    path = _write(_scaled(row, "open_interest", 1e4)(clean), tmp_path / "glitch.csv")
    res = _map(cli, path, "--repair")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    (note,) = out["repairs"]
    assert "open_interest" in note and f"[{row}]" in note
    assert out["imbalance"]["ratio"] == pytest.approx(good["imbalance"]["ratio"], rel=1e-2)
    assert out["map"]["total_long_usd"] == pytest.approx(good["map"]["total_long_usd"],
                                                         rel=1e-2)


def test_the_glitch_would_flip_the_map_if_accepted(clean):
    """Why the check matters: the same glitch, let through, flips imbalance and max pain."""
    bars = load_sample().take(slice(2000, 2000 + N_BARS))
    oi = bars.open_interest.copy()
    oi[500] *= 1e4
    good, bad = _ratio(bars), _ratio(replace(bars, open_interest=oi))
    assert good > 1 > bad


def test_repair_of_a_price_tick_keeps_the_bar_consistent(cli, tmp_path, clean):
    good = json.loads(_map(cli, _write(clean, tmp_path / "good.csv")).out)
    res = _map(cli, _write(_scaled(123, PRICES, 100.0)(clean), tmp_path / "tick.csv"),
               "--repair")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert len(out["repairs"]) == 4 and all("[123]" in r for r in out["repairs"])
    assert out["imbalance"]["ratio"] == pytest.approx(good["imbalance"]["ratio"], rel=1e-2)


def test_grid_error_names_the_price_range_and_its_rows():
    """A price that slips past validation (arrays built by hand) is still traceable."""
    bars = load_sample().take(slice(2000, 2000 + N_BARS))
    high = bars.high.copy()
    high[123] *= 100
    with pytest.raises(ConfigError) as exc:
        LiquidationModel().run(replace(bars, high=high, source="hand-made.csv"))
    text = str(exc.value)
    for frag in ("price bins", "hand-made.csv", "max high", "(row 123,", "min low",
                 "--repair", "--bin-usd"):
        assert frag in text, (frag, text)

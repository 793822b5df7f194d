"""``liqmap liq-price`` for every venue and side, JSON and text output, errors."""

from __future__ import annotations

import json

import pytest

from liqmap.cli import main
from liqmap.core.liqprice import liquidation_price, okx_contracts_to_coin


def run(argv: list[str]) -> None:
    """Run the CLI as the ``liqmap`` script does; a success exits with code 0."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code in (0, None)


def run_json(capsys, *args: str) -> dict:
    run(["liq-price", *args, "--json"])
    return json.loads(capsys.readouterr().out)


def test_binance_golden_json(capsys):
    rep = run_json(capsys, "--venue", "binance", "--side", "long", "--entry", "100000",
                   "--qty", "0.1", "--margin", "1000")
    assert rep["liquidation_price"] == 90361.45
    assert rep["liquidation_price_exact"] == pytest.approx(90361.4457831, rel=1e-9)
    assert rep["bankruptcy_price"] == pytest.approx(90_000)
    assert rep["tier"] | {} == {"mmr": 0.004, "cum": 0.0, "max_leverage": 125.0, "floor": 0.0,
                                "cap": 50000.0, "notional_unit": "usd"}
    assert (rep["venue"], rep["side"], rep["table_version"]) == ("binance", "long", "2024-10-24")


# venue, size args, margin (in venue units), expected long/short from the core
CASES = [
    ("binance", ["--qty", "0.1"], 1_000.0, 0.1),
    ("bybit", ["--qty", "1"], 2_000.0, 1.0),
    ("okx", ["--contracts", "100"], 10_000.0, okx_contracts_to_coin(100)),
    ("hyperliquid", ["--qty", "1"], 10_000.0, 1.0),
    ("binance-inverse", ["--contracts", "1000"], 0.1, 1000.0),
]


@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize(("venue", "size_args", "margin", "size"), CASES, ids=[c[0] for c in CASES])
def test_every_venue_and_side(capsys, venue, size_args, margin, size, side):
    entry = 50_000.0 if venue == "binance-inverse" else 100_000.0
    rep = run_json(capsys, "--venue", venue, "--side", side, "--entry", str(entry), *size_args,
                   "--margin", str(margin))
    expected = liquidation_price(venue, side, entry, size, margin)
    assert rep["liquidation_price_exact"] == pytest.approx(expected, rel=1e-12)
    assert rep["liquidation_price"] == round(expected, 2)
    assert (rep["venue"], rep["side"], rep["size"]) == (venue, side, size)
    if side == "long":
        assert rep["liquidation_price"] < entry
    else:
        assert rep["liquidation_price"] > entry


def test_golden_values_through_cli(capsys):
    bybit = run_json(capsys, "--venue", "bybit", "--side", "long", "--entry", "20000", "--qty", "1",
                     "--leverage", "50")
    assert bybit["liquidation_price"] == 19700.0 and bybit["margin"] == 400.0
    hl = run_json(capsys, "--venue", "hyperliquid", "--side", "long", "--entry", "100000",
                  "--qty", "1", "--leverage", "10")
    assert hl["liquidation_price"] == 91139.24


def test_leverage_for_inverse_is_margin_in_btc(capsys):
    rep = run_json(capsys, "--venue", "binance-inverse", "--side", "long", "--entry", "50000",
                   "--contracts", "1000", "--leverage", "20")
    assert rep["margin"] == pytest.approx(0.1) and rep["margin_unit"] == "BTC"
    assert rep["liquidation_price"] == pytest.approx(47_809.52, abs=0.005)


def test_never_liquidated_short_is_null_in_json(capsys):
    rep = run_json(capsys, "--venue", "binance-inverse", "--side", "short", "--entry", "50000",
                   "--contracts", "1000", "--leverage", "1")
    assert rep["liquidatable"] is False and rep["liquidation_price"] is None


def test_table_version_and_okx_fee(capsys):
    old = run_json(capsys, "--venue", "binance", "--side", "short", "--entry", "100000",
                   "--qty", "5", "--leverage", "10", "--table-version", "2022-01-01")
    assert old["table_version"] == "2021-03-26" and old["tier"]["mmr"] == 0.01
    no_fee = run_json(capsys, "--venue", "okx", "--side", "long", "--entry", "100000",
                      "--contracts", "100", "--margin", "10000", "--taker-fee", "0")
    assert no_fee["liquidation_price_exact"] == pytest.approx(90_000 / 0.996, rel=1e-12)


def test_text_output(capsys):
    run(["liq-price", "--venue", "binance", "--side", "long", "--entry", "100000",
         "--qty", "0.1", "--margin", "1000"])
    out = capsys.readouterr().out.strip()
    assert out.startswith("binance long 0.1 coin @ 100,000.00: liquidation 90,361.45")
    assert "table 2024-10-24" in out and "\n" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--venue", "ftx", "--qty", "1", "--margin", "1"], "unknown venue 'ftx'"),
        (["--venue", "binance", "--side", "up", "--qty", "1", "--margin", "1"], "side must be 'long'"),
        (["--venue", "binance", "--qty", "0", "--margin", "1"], "qty must be a finite number > 0"),
        (["--venue", "binance", "--qty", "1"], "give exactly one of --margin or --leverage"),
        (["--venue", "binance", "--margin", "1"], "give the size once"),
        (["--venue", "binance", "--contracts", "1", "--margin", "1"], "--contracts is for okx"),
        (["--venue", "binance-inverse", "--qty", "1", "--margin", "1"], "pass --contracts"),
        (["--venue", "binance", "--qty", "1", "--margin", "1", "--table-version", "2001-01-01"],
         "no binance BTCUSDT tier table in force on 2001-01-01"),
    ],
)
def test_errors_exit_2_with_fix(capsys, args, message):
    base = ["liq-price", "--side", "long", "--entry", "100000"]
    if "--side" in args:
        base = ["liq-price", "--entry", "100000"]
    with pytest.raises(SystemExit) as exc:
        main(base + args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


# venue, size args, entry, notional in margin units: leverage exactly at the venue maximum
AT_MAX = [
    ("binance", ["--qty", "0.1"], 100_000.0, 125),
    ("bybit", ["--qty", "1"], 100_000.0, 100),
    ("okx", ["--contracts", "100"], 100_000.0, 100),
    ("hyperliquid", ["--qty", "1"], 100_000.0, 40),
    ("binance-inverse", ["--contracts", "1000"], 50_000.0, 125),
]


@pytest.mark.parametrize(("venue", "size_args", "entry", "top"), AT_MAX, ids=[c[0] for c in AT_MAX])
def test_leverage_exactly_at_the_venue_maximum_is_accepted(capsys, venue, size_args, entry, top):
    rep = run_json(capsys, "--venue", venue, "--side", "long", "--entry", str(entry), *size_args,
                   "--leverage", str(top))
    assert rep["liquidatable"] and rep["liquidation_price"] < entry
    assert rep["tier"]["max_leverage"] == top
    with pytest.raises(SystemExit) as exc:
        main(["liq-price", "--venue", venue, "--side", "long", "--entry", str(entry), *size_args,
              "--leverage", str(top + 1)])
    assert exc.value.code == 2
    assert f"{venue}'s maximum leverage of {top:g}x" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--qty", "1e300", "--leverage", "10"], "position notional (qty x entry_price) is 1e+305 USD"),
    (["--qty", "0.1", "--margin", "10"], "the leverage of --margin 10 (1,000x) is above binance's"),
    (["--qty", "0.1", "--leverage", "nan"], "--leverage must be a finite number > 0"),
])
def test_impossible_positions_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["liq-price", "--venue", "binance", "--side", "long", "--entry", "100000", *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err

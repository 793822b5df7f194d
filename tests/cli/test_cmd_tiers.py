"""``liqmap tiers`` and ``liq-price --symbol`` for BTC, ETH and SOL, JSON and text, errors."""

from __future__ import annotations

import json

import pytest

from liqmap.cli import main
from liqmap.core.liqprice import liquidation_price
from liqmap.core.tiers import MISSING, get_tier_table, list_tier_tables


def run(argv: list[str]) -> None:
    """Run the CLI as the ``liqmap`` script does; a success exits with code 0."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code in (0, None)


def tiers_json(capsys, *args: str) -> dict:
    run(["tiers", *args, "--json"])
    return json.loads(capsys.readouterr().out)


SHIPPED = sorted({(t.venue, t.symbol) for t in list_tier_tables()})


@pytest.mark.parametrize(("venue", "symbol"), SHIPPED, ids=[f"{v}-{s}" for v, s in SHIPPED])
def test_every_shipped_table_prints_as_json(capsys, venue, symbol):
    rep = tiers_json(capsys, "--venue", venue, "--symbol", symbol)
    table = get_tier_table(venue, symbol)
    assert (rep["venue"], rep["symbol"], rep["version"]) == (venue, symbol, table.version)
    assert rep["source"] == table.source and rep["verified"] is table.verified
    assert len(rep["tiers"]) == len(table.tiers) and rep["tiers"][0]["floor"] == 0.0
    assert rep["tiers"][-1]["cap"] is None  # the open end is null in JSON


def test_ccxt_symbol_and_version(capsys):
    rep = tiers_json(capsys, "--venue", "hyperliquid", "--symbol", "ETH/USDC:USDC")
    assert rep["symbol"] == "ETH" and rep["verified"] is True
    assert [t["max_leverage"] for t in rep["tiers"]] == [25.0, 15.0]
    old = tiers_json(capsys, "--venue", "okx", "--version", "2025-06-30")
    assert (old["symbol"], old["version"], old["verified"]) == ("BTC-USDT-SWAP", "2024-01-01", False)
    eth = tiers_json(capsys, "--venue", "okx", "-s", "ETH-USDT-SWAP")
    assert (eth["contract_size"], eth["notional_unit"]) == (0.1, "coin")


def test_text_output(capsys):
    run(["tiers", "--venue", "binance", "--symbol", "SOLUSDT"])
    out = capsys.readouterr().out
    assert out.startswith("binance SOLUSDT tiers, version 2026-09-29 (verified; notional in USD)")
    assert "50,000" in out and "mmr 0.5000%" in out and "source: freqtrade 2026.9" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--venue", "bybit", "--symbol", "ETHUSDT"], "not shipped: no recorded venue answer"),
        (["--venue", "okx", "--symbol", "SOL-USDT-SWAP"], "shipped symbols: BTC-USDT-SWAP, "
                                                           "ETH-USDT-SWAP"),
        (["--venue", "binance", "--symbol", "ETHUSDT", "--version", "2025-01-01"],
         "no binance ETHUSDT tier table in force on 2025-01-01"),
        (["--venue", "ftx"], "unknown venue 'ftx'"),
    ],
)
def test_errors_exit_2_with_the_known_symbols(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["tiers", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_pairs_are_refused_by_both_commands(capsys):
    for venue, symbol in MISSING:
        with pytest.raises(SystemExit) as exc:
            main(["liq-price", "--venue", venue, "--symbol", symbol, "--side", "long",
                  "--entry", "100", "--qty", "1", "--leverage", "5"])
        assert exc.value.code == 2
        assert "shipped symbols" in capsys.readouterr().err


# venue, symbol, size args, size in coin, entry
LIQ = [
    ("binance", "ETH/USDT:USDT", ["--qty", "2"], 2.0, 3_000.0),
    ("binance", "SOLUSDT", ["--qty", "50"], 50.0, 150.0),
    ("okx", "ETH/USDT:USDT", ["--contracts", "100"], 10.0, 3_000.0),
    ("hyperliquid", "ETH", ["--qty", "2"], 2.0, 3_000.0),
    ("hyperliquid", "SOL/USDC:USDC", ["--qty", "50"], 50.0, 150.0),
]


@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize(("venue", "symbol", "size_args", "size", "entry"), LIQ,
                         ids=[f"{c[0]}-{c[1]}" for c in LIQ])
def test_liq_price_takes_a_symbol(capsys, venue, symbol, size_args, size, entry, side):
    run(["liq-price", "--venue", venue, "--symbol", symbol, "--side", side, "--entry", str(entry),
         *size_args, "--leverage", "10", "--json"])
    rep = json.loads(capsys.readouterr().out)
    table = get_tier_table(venue, symbol)
    expected = liquidation_price(venue, side, entry, size, size * entry / 10, table=table)
    assert rep["symbol"] == table.symbol and rep["size"] == pytest.approx(size, rel=1e-12)
    assert rep["liquidation_price_exact"] == pytest.approx(expected, rel=1e-12)
    assert rep["table_version"] == table.version and rep["table_verified"] is table.verified


def test_liq_price_refuses_leverage_above_the_symbols_maximum(capsys):
    # SOL on Binance allows 100x in bracket 1 (BTC and ETH: 150x)
    with pytest.raises(SystemExit) as exc:
        main(["liq-price", "--venue", "binance", "--symbol", "SOLUSDT", "--side", "long",
              "--entry", "150", "--qty", "10", "--leverage", "125"])
    assert exc.value.code == 2
    assert "maximum leverage of 100x" in capsys.readouterr().err

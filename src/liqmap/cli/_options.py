"""The one registry of command-line options: every flag that more than one command takes.

A flag is spelled here once (its long name and short alias), in a constant when every
command means the same by it (``OUT``, ``JSON``, the model parameters) or in a function
when each command gives its own default and help (``out("scorecard", "Folder for ...")``).
The model-parameter flags are declared from their specs in :mod:`liqmap.params`; ``--venue``
and ``--leverage`` take their spelling from there in every command. An option of one
command only stays in that command's module. ``tests/cli/test_options_registry.py`` fails
when a flag is declared in two places.
"""

from __future__ import annotations

from typing import Any

import typer

from liqmap.params import LOOKBACKS_MS, PARAMS, RUN_PARAMS

# ------------------------------------------------ flags of several commands, each its own default


def input_file(default: Any, help: str) -> Any:
    """``--input/-i``: bar file(s) (a list where the command takes several)."""
    return typer.Option(default, "--input", "-i", help=help)


def sample(default: Any, help: str) -> Any:
    """``--sample``: a bundled sample's name."""
    return typer.Option(default, "--sample", help=help)


def out(default: Any, help: str) -> Any:
    """``--out/-o``: the folder written to (``...`` where it is required)."""
    return typer.Option(default, "--out", "-o", help=help)


def as_json(help: str) -> Any:
    """``--json``: print JSON instead of text."""
    return typer.Option(False, "--json", help=help)


def db(help: str) -> Any:
    """``--db``: a DuckDB store file."""
    return typer.Option(None, "--db", help=help)


def rest_url(help: str) -> Any:
    """``--rest-url``: a REST base URL instead of the venue's (a mirror or a test server)."""
    return typer.Option(None, "--rest-url", help=help)


def live(help: str) -> Any:
    """``--live``: from the venues, now (``serve`` streams, ``scan`` fetches recent bars)."""
    return typer.Option(False, "--live", help=help)


def venue(default: Any, help: str) -> Any:
    """``--venue`` outside the model flags: a venue (or several), spelled as in ``PARAMS``."""
    return typer.Option(default, PARAMS["venue"].flag, help=help)


def leverage(default: Any, help: str) -> Any:
    """``--leverage`` as a number (``liqprice``), spelled as the model flag in ``PARAMS``."""
    return typer.Option(default, PARAMS["leverage"].flag, help=help)


def symbol(default: Any, help: str) -> Any:
    """``--symbol/-s``: a ccxt symbol (``BTC/USDT:USDT``)."""
    return typer.Option(default, "--symbol", "-s", help=help)


def side(default: Any, help: str) -> Any:
    """``--side``: long or short (or both)."""
    return typer.Option(default, "--side", help=help)


def window(default: Any, help: str) -> Any:
    """``--window/-w``: a scorecard window of the shared data (a list where several)."""
    return typer.Option(default, "--window", "-w", help=help)


def start(default: Any, help: str) -> Any:
    """``--start``: first time or day taken."""
    return typer.Option(default, "--start", help=help)


def since(default: Any, help: str) -> Any:
    """``--since``: the earliest time a report reads (ISO UTC or Unix ms)."""
    return typer.Option(default, "--since", help=help)


def end(default: Any, help: str) -> Any:
    """``--end``: the time or day the span ends."""
    return typer.Option(default, "--end", help=help)


def lookback(default: Any, help: str) -> Any:
    """``--lookback/-l``: a window of the bars ending at the map's time."""
    return typer.Option(default, "--lookback", "-l", help=help)


def preset(default: Any, help: str) -> Any:
    """``--preset``: a fitted preset, by name or JSON path."""
    return typer.Option(default, "--preset", help=help)


def scheduler(default: Any, help: str) -> Any:
    """``--scheduler``: where a grid runs (``liqmap.scaleout``)."""
    return typer.Option(default, "--scheduler", help=help)


def warmup_hours(help: str) -> Any:
    """``--warmup-hours``: leading hours not scored (default: the window's own)."""
    return typer.Option(None, "--warmup-hours", help=help)


def scorecard_dir(help: str) -> Any:
    """``--scorecard-dir``: the folder ``liqmap backtest --out`` writes (default scorecard)."""
    return typer.Option("scorecard", "--scorecard-dir", help=help)


def warm_bars(default: Any, help: str) -> Any:
    """``--warm-bars``: closed bars fetched over REST before streaming."""
    return typer.Option(default, "--warm-bars", help=help)


def volume_usd(help: str) -> Any:
    """``--volume-usd``: daily USD volume behind the cascade's impact model."""
    return typer.Option(None, "--volume-usd", help=help)


# ------------------------------------------- the scoring inputs (backtest, calibrate, studies)
REALIZED = typer.Option(None, "--realized", help="Realized liquidations for --input: per-bar "
                        "totals (ts_ms,long_usd,short_usd) or a liquidation event file "
                        "(Binance liquidationSnapshot or forceOrder recording).")
REALIZED_FORMAT = typer.Option("auto", "--realized-format", help="auto, totals, snapshot or "
                               "forceorder.")
FIT_UNTIL = typer.Option(None, "--fit-until", help="End of the calibration span (ISO UTC or "
                         "Unix ms): a fit reads nothing at or after it. Default: window A/C "
                         "2026-02-01; your data: all of it (calibrate) or --score-from.")
SCORE_FROM = typer.Option(None, "--score-from", help="Start of the scoring span (ISO UTC or "
                          "Unix ms); default --fit-until. Not before --fit-until.")
SCORE_BAR = typer.Option(None, "--score-bar", help="Scoring bar for event files and the store "
                         "(e.g. 1h); default the engine bar.")
SCORING_DB = db("DuckDB store: score its bars and realized liquidations (with --venue, "
                "--symbol, --start, --end) instead of files.")


# ------------------------------------------------------------ flags of the engine commands

INPUT = input_file(None, "Bar file (CSV, CSV.gz or Parquet) with columns "
                   "ts_ms,open,high,low,close,volume,open_interest (+ optional taker_buy_volume,"
                   " taker_delta, funding_rate). Default: the bundled Binance sample.")
OI_UNIT = typer.Option("base", "--oi-unit", help="Unit of the open_interest column: base "
                       "(coins), usd, or contracts (with --contract-size).")
CONTRACT_SIZE = typer.Option(None, "--contract-size", help="Coins per contract when "
                             "--oi-unit contracts (e.g. 0.01 for OKX BTC-USDT-SWAP).")
REPAIR = typer.Option(False, "--repair", help="Apply safe repairs and report them, instead of "
                      "failing: sort, drop exact duplicate rows, replace a lone open-interest "
                      "or price spike by its neighbours' value.")
SAMPLE = sample("btcusdt-5m-2025-12", "Bundled sample used when no --input is given.")
LOOKBACK = lookback(None, f"Window ending at --at: one of {', '.join(LOOKBACKS_MS)}. "
                    "Default: all bars.")
AT = typer.Option(None, "--at", help="End of the window: ISO time (UTC) or Unix ms. "
                  "Default: the last bar.")
# run parameters (liqmap.params.RUN_PARAMS), kept as text: LiquidationModel.run parses them
WARMUP = typer.Option(None, "--warmup", help=RUN_PARAMS["warmup"].help, metavar="DURATION")
OPENED_WITHIN = typer.Option(None, "--opened-within", help=RUN_PARAMS["opened_within"].help,
                             metavar="DURATION")
OUT = out("out", "Folder for PNG and HTML output.")
JSON = as_json("Print the numbers as one JSON object.")
JSON_OBJECT = as_json("Print one JSON object.")
DATA_DIR = typer.Option(None, "--data-dir", help="Shared data folder holding raw/ "
                        "(default: $LIQMAP_SHARED_DATA, else ../shared/data).")
NO_PLOTS = typer.Option(False, "--no-plots", help="Skip writing PNG/HTML files.")
SELF_CONTAINED_HTML = typer.Option(
    False, "--self-contained-html", help="Inline plotly.js in each HTML file (one file of about "
    "5 MB that opens alone) instead of one shared plotly.js beside the pages in --out.")
CONFIG = typer.Option(None, "--config", help="TOML file with a [model] table "
                      "(layered: defaults -> file -> LIQMAP_* env -> flags).")
UP_PCT = typer.Option(20.0, "--up-pct", help="Imbalance: shorts from the price up to +N%.")
DOWN_PCT = typer.Option(20.0, "--down-pct", help="Imbalance: longs from the price down to -N%.")

# ------------------------------------------------ flags of the cascade commands

IMPACT = typer.Option("sqrt", "--impact", help="Impact model: sqrt (square-root law), book "
                      "(walk a real Hyperliquid L2 snapshot), depth (depth profile + MM "
                      "withdrawal).")
VENUE_RULES = typer.Option("auto", "--venue-rules", help="auto (each map's venue), binance, "
                           "hyperliquid or market.")

# ------------------------------------------------ flags of the streaming commands (live, serve)

STREAM_VENUES = venue(["binance"], "Venue to stream (repeat for several): binance (USDⓈ-M), "
                      "bybit (v5 linear), okx (v5 USDT swaps), hyperliquid (USDC perpetuals; "
                      "no liquidation events, no OI history).")
STREAM_SYMBOL = symbol("BTC/USDT:USDT", "ccxt perpetual symbol. Hyperliquid streams the same "
                       "base's USDC perpetual (BTC/USDT:USDT -> BTC/USDC:USDC).")
TIMEFRAME = typer.Option("5m", "--timeframe", help="Bar interval (ccxt timeframe).")
WS_URL = typer.Option(None, "--ws-url", help="Websocket base URL per --venue, in the same "
                      "order (a mirror or a test server); default the venue's.")
REST_URL = rest_url("REST base URL per --venue, in the same order; default the venue's.")
STALL = typer.Option(120.0, "--stall-s", help="Reconnect when no message arrives for this "
                     "many seconds.")
NOW = typer.Option(None, "--now", help="Pretend the current time is this (ISO UTC or Unix "
                   "ms): for replaying a mirror; default the clock.")
SNAPSHOT_EVERY = typer.Option(12, "--snapshot-every", min=1, help="With --db: store the "
                              "standing map every N closed bars (and at the end); each bar's "
                              "predicted liquidations are stored at every bar.")

# model parameters: None means "not given on the command line" (lower layers decide). Each
# is declared from its spec in liqmap.params and kept as text (parser=str): liqmap.cli.config
# parses flags with the same parser as the environment, the TOML file and sweep grids.
def _model_option(name: str):
    spec = PARAMS[name]
    return typer.Option(None, spec.flag, help=spec.help, parser=str, metavar="TEXT")


VENUE = _model_option("venue")
LEVERAGE = _model_option("leverage")
SIDE_MODEL = _model_option("side_model")
SIDE_STRENGTH = _model_option("side_strength")
OI_POLICY = _model_option("oi_policy")
HALF_LIFE = _model_option("half_life_hours")
POSITION_USD = _model_option("position_notional_usd")
BIN_USD = _model_option("bin_usd")
BAND = _model_option("band")
TIER_VERSION = _model_option("tier_version")
CONVENTION = _model_option("convention")


def model_flags(venue: str | None, leverage: str | None, side_model: str | None,
                side_strength: str | float | None, oi_policy: str | None,
                half_life: str | None, position_usd: str | float | None,
                bin_usd: str | float | None, band: str | None,
                tier_version: str | None, convention: str | None = None) -> dict:
    """The model-parameter flags as a dict for ``liqmap.cli.config.build_model`` (text as
    given, or values; ``liqmap.params.parse_param`` reads either)."""
    return {"venue": venue, "leverage": leverage, "side_model": side_model,
            "side_strength": side_strength, "oi_policy": oi_policy,
            "half_life_hours": half_life, "position_notional_usd": position_usd,
            "bin_usd": bin_usd, "band": band, "tier_version": tier_version,
            "convention": convention}

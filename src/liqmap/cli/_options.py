"""The one registry of command-line options shared by the engine commands."""

from __future__ import annotations

from typing import Optional

import typer

from liqmap.model import LOOKBACKS_MS
from liqmap.params import PARAMS

INPUT = typer.Option(None, "--input", "-i", help="Bar file (CSV, CSV.gz or Parquet) with columns "
                     "ts_ms,open,high,low,close,volume,open_interest (+ optional taker_buy_volume,"
                     " taker_delta, funding_rate). Default: the bundled Binance sample.")
OI_UNIT = typer.Option("base", "--oi-unit", help="Unit of the open_interest column: base "
                       "(coins), usd, or contracts (with --contract-size).")
CONTRACT_SIZE = typer.Option(None, "--contract-size", help="Coins per contract when "
                             "--oi-unit contracts (e.g. 0.01 for OKX BTC-USDT-SWAP).")
REPAIR = typer.Option(False, "--repair", help="Apply safe repairs and report them, instead of "
                      "failing: sort, drop exact duplicate rows, replace a lone open-interest "
                      "or price spike by its neighbours' value.")
SAMPLE = typer.Option("btcusdt-5m-2025-12", "--sample", help="Bundled sample used when no "
                      "--input is given.")
LOOKBACK = typer.Option(None, "--lookback", "-l",
                        help=f"Window ending at --at: one of {', '.join(LOOKBACKS_MS)}. "
                             "Default: all bars.")
AT = typer.Option(None, "--at", help="End of the window: ISO time (UTC) or Unix ms. "
                  "Default: the last bar.")
OUT = typer.Option("out", "--out", "-o", help="Folder for PNG and HTML output.")
JSON = typer.Option(False, "--json", help="Print the numbers as one JSON object.")
DATA_DIR = typer.Option(None, "--data-dir", help="Shared data folder holding raw/ "
                        "(default: $LIQMAP_SHARED_DATA, else ../shared/data).")
NO_PLOTS = typer.Option(False, "--no-plots", help="Skip writing PNG/HTML files.")
CONFIG = typer.Option(None, "--config", help="TOML file with a [model] table "
                      "(layered: defaults -> file -> LIQMAP_* env -> flags).")

# model parameters: None means "not given on the command line" (lower layers decide). Each
# is declared from its spec in liqmap.params and kept as text (parser=str): liqmap.config
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


def model_flags(venue: Optional[str], leverage: Optional[str], side_model: Optional[str],
                side_strength: Optional[str | float], oi_policy: Optional[str],
                half_life: Optional[str], position_usd: Optional[str | float],
                bin_usd: Optional[str | float], band: Optional[str],
                tier_version: Optional[str]) -> dict:
    """The model-parameter flags as a dict for ``liqmap.config.build_model`` (text as
    given, or values; ``liqmap.params.parse_param`` reads either)."""
    return {"venue": venue, "leverage": leverage, "side_model": side_model,
            "side_strength": side_strength, "oi_policy": oi_policy,
            "half_life_hours": half_life, "position_notional_usd": position_usd,
            "bin_usd": bin_usd, "band": band, "tier_version": tier_version}

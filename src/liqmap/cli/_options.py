"""The one registry of command-line options shared by the engine commands."""

from __future__ import annotations

from typing import Optional

import typer

from liqmap.model import LOOKBACKS_MS

INPUT = typer.Option(None, "--input", "-i", help="Bar file (CSV, CSV.gz or Parquet) with columns "
                     "ts_ms,open,high,low,close,volume,open_interest (+ optional taker_buy_volume,"
                     " taker_delta, funding_rate). Default: the bundled Binance sample.")
OI_UNIT = typer.Option("base", "--oi-unit", help="Unit of the open_interest column: base "
                       "(coins), usd, or contracts (with --contract-size).")
CONTRACT_SIZE = typer.Option(None, "--contract-size", help="Coins per contract when "
                             "--oi-unit contracts (e.g. 0.01 for OKX BTC-USDT-SWAP).")
REPAIR = typer.Option(False, "--repair", help="Apply safe repairs (sort, drop exact duplicate "
                      "rows) and report them, instead of failing.")
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

# model parameters: None means "not given on the command line" (lower layers decide)
VENUE = typer.Option(None, "--venue", help="Liquidation rules: binance, bybit, okx, "
                     "hyperliquid, binance-inverse.")
LEVERAGE = typer.Option(None, "--leverage", help="Leverage preset (all-leverage, "
                        "high-leverage, peer-common, low-leverage) or weights "
                        "'10:0.3,25:0.4,50:0.3'.")
SIDE_MODEL = typer.Option(None, "--side-model", help="Aggressive side of new OI: candle, "
                          "taker, funding, neutral.")
SIDE_STRENGTH = typer.Option(None, "--side-strength", help="0..1, shrinks the side model "
                             "towards 50/50.")
OI_POLICY = typer.Option(None, "--oi-policy", help="When OI falls: proportional, net, "
                         "leverage-first, none.")
HALF_LIFE = typer.Option(None, "--half-life", help="Level decay: hours for all tiers, or "
                         "per tier '100:6,50:12'.")
POSITION_USD = typer.Option(None, "--position-usd", help="Representative position notional "
                            "(USD); picks the margin tier.")
BIN_USD = typer.Option(None, "--bin-usd", help="Price-bin width in USD (default: about 0.05% "
                       "of price).")
BAND = typer.Option(None, "--band", help="Low/high band: presets or none.")
TIER_VERSION = typer.Option(None, "--tier-version", help="Margin-tier table version (date).")


def model_flags(venue: Optional[str], leverage: Optional[str], side_model: Optional[str],
                side_strength: Optional[float], oi_policy: Optional[str],
                half_life: Optional[str], position_usd: Optional[float],
                bin_usd: Optional[float], band: Optional[str],
                tier_version: Optional[str]) -> dict:
    """The model-parameter flags as a dict for ``liqmap.config.build_model``."""
    return {"venue": venue, "leverage": leverage, "side_model": side_model,
            "side_strength": side_strength, "oi_policy": oi_policy,
            "half_life_hours": half_life, "position_notional_usd": position_usd,
            "bin_usd": bin_usd, "band": band, "tier_version": tier_version}

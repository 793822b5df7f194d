"""``liqmap liq-price``: the liquidation price of one position by a venue's rule.

Refused with a message (exit 2): sizes, prices and margins that are not finite and
positive, a notional beyond ``MAX_NOTIONAL_USD``, and a leverage (given, or implied by
``--margin``) above the venue's maximum for the position's size.

Example::

    liqmap liq-price --venue binance --side long --entry 100000 --qty 0.1 --margin 1000 --json
    liqmap liq-price --venue okx --symbol ETH/USDT:USDT --side short --entry 3000 \
        --contracts 100 --leverage 10

``--symbol`` picks the symbol's tier table and contract size (``liqmap tiers`` lists them);
the default is the venue's BTC perpetual.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import typer

from liqmap._exceptions import ConfigError
from liqmap.cli import _options as o
from liqmap.core.tiers import VENUES, TierTable, get_tier_table

if TYPE_CHECKING:  # the formulas (numpy) load when the command runs, not for --help
    from liqmap.core.liqprice import LiqResult

__all__ = ["build_report", "register"]

_VENUE = o.venue(..., f"Liquidation rules: {', '.join(VENUES)}.")
_SIDE = o.side(..., "long or short.")
_ENTRY = typer.Option(..., "--entry", help="Entry price (USD per coin).")
_QTY = typer.Option(None, "--qty", help="Size in coin (linear venues).")
_CONTRACTS = typer.Option(None, "--contracts", help="Size in contracts: OKX (ctVal coin each: "
                          "0.01 BTC, 0.1 ETH) or binance-inverse (100 USD each; required there).")
_MARGIN = typer.Option(None, "--margin", help="Isolated margin / wallet: quote currency, BTC "
                       "for binance-inverse.")
_LEVERAGE = o.leverage(None, "Instead of --margin: margin = notional / leverage (notional "
                       "at entry).")
_SYMBOL = o.symbol(None, "Venue or ccxt symbol (ETHUSDT, ETH/USDT:USDT, ETH-USDT-SWAP, ETH); "
                   "default the venue's BTC perpetual.")
_TABLE_VERSION = typer.Option(None, "--table-version", help="Tier table in force on this "
                              "date (YYYY-MM-DD); default the latest.")
_TAKER_FEE = typer.Option(None, "--taker-fee", help="OKX only: taker fee fraction folded "
                          "into the rule (default 0.0005).")


def _size(venue: str, qty: float | None, contracts: float | None, table: TierTable) -> float:
    """Size as the core expects it: contracts for inverse, coin otherwise."""
    if venue == "binance-inverse":
        if contracts is None:
            raise ConfigError("binance-inverse sizes are in contracts of 100 USD: pass --contracts")
        return contracts
    if (qty is None) == (contracts is None):
        raise ConfigError("give the size once: --qty (coin) or --contracts (OKX)")
    if contracts is not None:
        if venue != "okx":
            raise ConfigError(f"--contracts is for okx and binance-inverse; for {venue} use --qty")
        from liqmap.core.liqprice import okx_contracts_to_coin

        return okx_contracts_to_coin(contracts, table.contract_size)
    if qty is None:  # cannot happen: exactly one of qty and contracts was given (checked above)
        raise ConfigError("give the size once: --qty (coin) or --contracts (OKX)")
    return qty


def _margin(venue: str, entry: float, size: float, margin, leverage, table: TierTable) -> float:
    if (margin is None) == (leverage is None):
        raise ConfigError("give exactly one of --margin or --leverage")
    if margin is not None:
        return margin
    if not (math.isfinite(leverage) and leverage > 0):
        raise ConfigError(f"--leverage must be a finite number > 0, got {leverage}")
    if venue == "binance-inverse":
        m = size * table.contract_size / entry / leverage
    else:
        m = size * entry / leverage
    if not math.isfinite(m) and math.isfinite(size * entry):  # else the core names the input
        raise ConfigError(f"--leverage {leverage:g} with this size gives no finite margin; "
                          "check --leverage, the size and --entry")
    return m


def _num(x: float) -> float | None:
    """JSON-safe number: None for a price that is never reached."""
    return None if math.isinf(x) else x


def build_report(res: LiqResult, venue: str, entry: float, size: float, margin: float) -> dict:
    """The JSON object printed by ``liq-price --json``."""
    lp, tier, table = res.liquidation_price, res.tier, res.table
    liquidatable = 0.0 < lp < math.inf
    return {
        "venue": venue,
        "symbol": table.symbol,
        "side": res.side,
        "entry_price": entry,
        "size": size,
        "size_unit": "contracts" if table.inverse else "coin",
        "margin": margin,
        "margin_unit": "BTC" if table.inverse else "USD",
        "liquidatable": liquidatable,
        "liquidation_price": round(lp, 2) if liquidatable else _num(lp),
        "liquidation_price_exact": _num(lp),
        "bankruptcy_price": _num(res.bankruptcy_price),
        "tier": {"mmr": tier.mmr, "cum": tier.cum_usd, "max_leverage": tier.max_leverage,
                 "floor": tier.floor_usd, "cap": _num(tier.cap_usd),
                 "notional_unit": table.notional_unit},
        "table_version": table.version,
        "table_source": table.source,
        "table_verified": table.verified,
    }


def _line(rep: dict) -> str:
    lp = rep["liquidation_price"]
    where = "never liquidated" if not rep["liquidatable"] else f"liquidation {lp:,.2f}"
    tier = rep["tier"]
    return (f"{rep['venue']} {rep['side']} {rep['size']:g} {rep['size_unit']} @ "
            f"{rep['entry_price']:,.2f}: {where} (mmr {tier['mmr']:.4%}, cum {tier['cum']:g}, "
            f"max {tier['max_leverage']:g}x; table {rep['table_version']})")


def register(app: typer.Typer) -> None:
    """Add ``liq-price`` to ``app``."""

    @app.command("liq-price")
    def liq_price(
        venue: str = _VENUE,
        side: str = _SIDE,
        entry: float = _ENTRY,
        symbol: str | None = _SYMBOL,
        qty: float | None = _QTY,
        contracts: float | None = _CONTRACTS,
        margin: float | None = _MARGIN,
        leverage: float | None = _LEVERAGE,
        table_version: str | None = _TABLE_VERSION,
        taker_fee: float | None = _TAKER_FEE,
        as_json: bool = o.JSON_OBJECT,
    ) -> None:
        """Liquidation price of one position by a venue's rule and tier table."""
        from liqmap.core.liqprice import check_position_leverage, liquidation_result

        table = get_tier_table(venue, symbol, version=table_version)
        size = _size(venue, qty, contracts, table)
        m = _margin(venue, entry, size, margin, leverage, table)
        opts = {"taker_fee": taker_fee} if taker_fee is not None else {}
        res = liquidation_result(venue, side, entry, size, m, table=table, **opts)
        # a position the venue would not open (a 1000x long "liquidated" above its entry)
        check_position_leverage(venue, entry, size, m, table=table,
                                name="--leverage" if leverage is not None
                                else f"the leverage of --margin {m:g}")
        rep = build_report(res, venue, entry, size, m)
        print(json.dumps(rep) if as_json else _line(rep))

"""``liqmap.venues.oi_rank``: the per-venue ranking rules on a stand-in ccxt exchange
(synthetic markets and answers; the loopback end-to-end runs are in
``tests/cli/test_cmd_scan_live.py``)."""

from __future__ import annotations

import pytest

from liqmap._exceptions import ConfigError
from liqmap.venues.oi_rank import MAX_PER_SYMBOL_CALLS, candidates, rank_by_open_interest


def _market(base: str, settle: str, size: float = 1.0, **kw) -> dict:
    return {"symbol": f"{base}/{settle}:{settle}", "base": base, "quote": settle,
            "settle": settle, "swap": True, "linear": True, "active": True,
            "contractSize": size, "id": base, **kw}


class FakeExchange:
    """Synthetic ccxt stand-in: markets, tickers and open interest, calls recorded."""

    def __init__(self, ccxt_id: str, markets: list[dict], tickers: dict | None = None,
                 ois: dict | None = None) -> None:
        self.id, self.options, self.calls = ccxt_id, {}, []
        self.markets = {m["symbol"]: m for m in markets}
        self.tickers, self.ois = tickers or {}, ois or {}
        self.has = {"fetchOpenInterests": ois is not None}

    def load_markets(self):
        return self.markets

    def fetch_tickers(self, symbols=None, params=None):
        self.calls.append(("fetch_tickers", params))
        return self.tickers

    def fetch_open_interest(self, symbol):
        self.calls.append(("fetch_open_interest", symbol))
        return self.ois[symbol]

    def fetch_open_interests(self, symbols=None, params=None):
        self.calls.append(("fetch_open_interests", params))
        return self.ois


def test_binance_asks_open_interest_of_the_top_volume_candidates_only():
    coins = [f"C{i:02d}" for i in range(80)]
    markets = [_market(c, "USDT") for c in coins] + [_market("BTC", "USDC")]
    # volume falls with i, open interest (coins x last) rises with i: the candidates decide
    tickers = {f"{c}/USDT:USDT": {"quoteVolume": 1e9 - i, "last": 2.0}
               for i, c in enumerate(coins)}
    tickers["BTC/USDC:USDC"] = {"quoteVolume": 1e12, "last": 1.0}
    ois = {f"{c}/USDT:USDT": {"openInterestAmount": 10.0 * (i + 1)}
           for i, c in enumerate(coins)}
    ex = FakeExchange("binanceusdm", markets, tickers, None)
    ex.ois = ois
    got = rank_by_open_interest("binance", 5, exchange=ex)
    n = candidates(5)
    asked = [c[1] for c in ex.calls if c[0] == "fetch_open_interest"]
    assert asked == [f"C{i:02d}/USDT:USDT" for i in range(n)]  # by volume, capped
    assert [m.symbol for m in got] == [f"C{i:02d}/USDT:USDT" for i in range(n - 1, n - 6, -1)]
    assert got[0].oi_usd == 10.0 * n * 2.0
    assert len(asked) <= MAX_PER_SYMBOL_CALLS


def test_hyperliquid_uses_fetch_open_interests_in_coins_times_mark():
    markets = [_market("BTC", "USDC"), _market("ETH", "USDC"), _market("HYPE", "USDC"),
               _market("OLD", "USDC", active=False)]
    ois = {"BTC/USDC:USDC": {"openInterestAmount": 10.0, "info": {"markPx": "100000"}},
           "ETH/USDC:USDC": {"openInterestAmount": 1000.0, "info": {"markPx": "3000"}},
           "HYPE/USDC:USDC": {"openInterestAmount": 1e5, "info": {"markPx": "20"}},
           "OLD/USDC:USDC": {"openInterestAmount": 1e9, "info": {"markPx": "30"}}}
    ex = FakeExchange("hyperliquid", markets, None, ois)
    got = rank_by_open_interest("hyperliquid", 2, exchange=ex)
    # ETH 3e6, HYPE 2e6, BTC 1e6 USD; the inactive market is left out
    assert [(m.symbol, m.oi_usd) for m in got] == [("ETH/USDC:USDC", 3e6),
                                                  ("HYPE/USDC:USDC", 2e6)]
    assert [c[0] for c in ex.calls] == ["fetch_open_interests"]


@pytest.mark.parametrize(("venue", "n", "words"), [
    ("kraken", 3, "--venue"), ("okx", 0, "--top-oi"), ("okx", 51, "1 to 50"),
    ("okx", True, "--top-oi")])
def test_refusals(venue, n, words):
    with pytest.raises(ConfigError, match=words):
        rank_by_open_interest(venue, n, exchange=FakeExchange("okx", []))

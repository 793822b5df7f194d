"""Records of the live engine: what one closed bar did to a model, and a filled gap.

The venue clients' wire records (``LiveBar``, ``LiveLiquidation``, ``OiTick``,
``FundingTick``) are in :mod:`liqmap.venues` (``liqmap.venues._shared.records``); these two
are the runner's own output, handed to its sink.

>>> GapEvent("binance", 0, 300_000, 2, "disconnect").bars_backfilled
2
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BarUpdate", "GapEvent"]


@dataclass(frozen=True, slots=True)
class GapEvent:
    """A hole in the stream that the runner filled over REST.

    Attributes
    ----------
    venue : str
        Venue whose stream had the gap.
    from_ms, to_ms : int
        Open times of the first and last missing bar (inclusive); ``to_ms < from_ms``
        when nothing was missing (a reconnect without loss).
    bars_backfilled : int
        Bars fetched over REST and fed to the model.
    reason : str
        What broke the stream, each cause once in order, joined by ``+``: ``"disconnect"``,
        ``"stall"`` (no message for ``stall_s``), ``"rate-limit"`` (HTTP 429/418), e.g.
        ``"stall+rate-limit"``; or ``"sequence"`` (a jump seen without a reconnect).
    liquidations_backfilled : int
        Liquidation events fetched over REST for the gap and sent to the sink (those the
        socket had not delivered), for venues that publish a liquidation history (OKX);
        0 where none is published (Binance, Bybit: their gap's liquidations are lost).
    """

    venue: str
    from_ms: int
    to_ms: int
    bars_backfilled: int
    reason: str
    liquidations_backfilled: int = 0


@dataclass(frozen=True, slots=True)
class BarUpdate:
    """What one closed bar did to a venue's incremental model.

    Attributes
    ----------
    venue, symbol : str
        The venue and symbol.
    ts_ms : int
        Bar open time.
    close_usd : float
        Bar close.
    predicted_long_usd, predicted_short_usd : float
        Predicted liquidations consumed in the bar (central preset).
    predicted_long_low_usd, predicted_long_high_usd, predicted_short_low_usd,
    predicted_short_high_usd : float
        Band over the model's presets.
    source : str
        ``"stream"`` or ``"rest"`` (a backfilled bar).
    """

    venue: str
    symbol: str
    ts_ms: int
    close_usd: float
    predicted_long_usd: float
    predicted_short_usd: float
    predicted_long_low_usd: float
    predicted_long_high_usd: float
    predicted_short_low_usd: float
    predicted_short_high_usd: float
    source: str = "stream"

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__slots__}

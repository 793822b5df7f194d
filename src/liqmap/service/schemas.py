"""JSON shapes of the API (pydantic models: they document ``/docs`` and ``/openapi.json``).

The shapes are part of the contract: fields are added, never renamed or removed, within
``/api/v1``. Units are in the names (``*_usd`` quote-currency notional or price, ``*_ms``
Unix milliseconds, ``*_pct`` percent). Non-finite numbers (an infinite ratio) are ``null``.

>>> Health(status="ok", source="bundled:x", venues=["binance"], symbols=["BTC/USDT:USDT"],
...        data_from_ms=0, data_to_ms=1, data_version="v").status
'ok'
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

__all__ = [
    "CascadeOut", "ClustersOut", "ErrorOut", "Health", "HeatmapOut", "ImbalanceOut", "MapOut",
    "MarketStateOut", "MaxPainOut", "RealizedOut", "RefreshOut", "ScorecardOut",
]


class ErrorOut(BaseModel):
    """An error: what went wrong and what to do (422, 403, 404, 503)."""

    detail: str
    retry_after_s: Optional[float] = Field(None, description="503 only: when to retry")


class Health(BaseModel):
    """What the service serves: source, venues (plus ``aggregate``), symbols, time span."""

    status: Literal["ok"]
    source: str
    venues: list[str]
    symbols: list[str]
    data_from_ms: int
    data_to_ms: int
    data_version: str
    lookbacks: list[str] = []
    admin_enabled: bool = False


class PriceLine(BaseModel):
    ts_ms: list[int]
    close_usd: list[float]
    high_usd: list[float]
    low_usd: list[float]


class RealizedEvent(BaseModel):
    ts_ms: int
    price_usd: float
    side: Literal["long", "short"] = Field(description="the side that was liquidated")
    notional_usd: float


class HeatmapOut(BaseModel):
    """The liquidation book over time: ``long_usd[t][b]`` is the notional of longs that
    would be liquidated in price bin ``b`` as the book stood at ``ts_ms[t]``."""

    venue: str
    symbol: str
    lookback: str
    data_version: str
    ts_ms: list[int]
    price_bins_usd: list[float] = Field(description="bin centres, ascending, at most 200")
    long_usd: list[list[float]]
    short_usd: list[list[float]]
    price: PriceLine
    realized: list[RealizedEvent] = Field(description="largest realized liquidations in "
                                          "the window (at most 2000), time order")
    lookback_clamped: bool = Field(description="the data start after lookback's start")


class MapOut(BaseModel):
    """The liquidation map at one time with its cumulative curves and summary."""

    venue: str
    symbol: str
    lookback: str
    data_version: str
    ts_ms: int
    price_usd: float
    price_bins_usd: list[float]
    long_usd: list[float]
    short_usd: list[float]
    cumulative_long_usd: list[float]
    cumulative_short_usd: list[float]
    summary: dict = Field(description="liqmap.core.mapstats.summary: total_long_usd, "
                          "total_short_usd, imbalance, clusters, densest_zone, max_pain")


class ImbalanceOut(BaseModel):
    """Shorts above the price (up to ``short_to_usd``) over longs below it."""

    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    short_usd: float
    long_usd: float
    ratio: Optional[float]
    short_from_usd: float
    short_to_usd: float
    long_from_usd: float
    long_to_usd: float
    ratio_low: Optional[float] = None
    ratio_high: Optional[float] = None


class ClusterOut(BaseModel):
    side: Literal["long", "short"]
    price_usd: float
    notional_usd: float
    from_usd: float
    to_usd: float
    distance_pct: float
    notional_low_usd: Optional[float] = Field(
        None, description="the same extent on the low band map (null without band)")
    notional_high_usd: Optional[float] = Field(
        None, description="the same extent on the high band map (null without band)")


class ClustersOut(BaseModel):
    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    clusters: list[ClusterOut]


class MaxPainLevel(BaseModel):
    price_usd: Optional[float]
    notional_usd: float
    distance_pct: Optional[float]
    side: Literal["long", "short", "none"]
    score_usd_per_pct2: Optional[float]
    notional_low_usd: Optional[float] = Field(
        None, description="a move to price_usd on the low band map (null without band)")
    notional_high_usd: Optional[float] = Field(
        None, description="a move to price_usd on the high band map (null without band)")
    level_low_usd: Optional[float] = Field(
        None, description="lowest max-pain level of the low, central and high maps")
    level_high_usd: Optional[float] = Field(
        None, description="highest max-pain level of the low, central and high maps")


class MaxPainOut(BaseModel):
    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    max_pain: MaxPainLevel


class CascadeStep(BaseModel):
    step: int
    t_s: float
    price_usd: float
    move_pct: float
    liquidated_usd: float = Field(description="notional liquidated at this step, both sides")


class CascadeOut(BaseModel):
    """A cascade after an instant shock (``liqmap.cascade.run.cascade_for``: the shipped
    impact scaled to the traded volume of the map's bars, the same answer as the CLI)."""

    venue: str
    symbol: str
    ts_ms: int
    reference_price_usd: float
    shock_pct: float
    final_move_pct: float
    peak_move_pct: float
    amplification: Optional[float] = Field(description="final move / shock; null at 0")
    liquidated_long_usd: float
    liquidated_short_usd: float
    truncated: bool
    path: list[CascadeStep]


class PerBar(BaseModel):
    ts_ms: list[int]
    long_usd: list[float]
    short_usd: list[float]


class RealizedOut(BaseModel):
    venue: str
    symbol: str
    start_ms: int
    end_ms: int
    available: bool = Field(description="false when the source holds no realized data")
    events: list[RealizedEvent]
    events_truncated: bool
    per_bar: PerBar


class MarketStateOut(BaseModel):
    """Headline state of the market over the lookback (``liqmap.studies.market_state``)."""

    venue: str
    symbol: str
    lookback: str
    data_version: str
    start_ms: int
    end_ms: int
    oi_change_pct: float = Field(description="open interest (coin) change over the window")
    max_oi_drawdown_pct: float = Field(description="largest peak-to-trough OI (USD) drop")
    funding_now: Optional[float] = Field(description="last funding rate per 8 h, fraction")
    funding_mean: Optional[float] = Field(description="window mean funding per 8 h")
    realized_per_day: list[dict] = Field(
        description="per UTC day: long_usd, short_usd (empty without realized data)")
    imbalance_trend: list[dict] = Field(
        description="ts_ms, price_usd, short_usd, long_usd, ratio, short_share within +/-10 %")
    imbalance_trend_pp: Optional[float] = Field(description="last minus first short_share, pp")
    sentences: list[str]
    state: dict = Field(description="the full MarketState record")


class ScorecardOut(BaseModel):
    dir: str
    windows: dict = Field(description="window name -> metrics-<W>.json of liqmap backtest")


class RefreshOut(BaseModel):
    status: Literal["refreshed"]
    data_version: str

"""JSON shapes of the API (pydantic models: they document ``/docs`` and ``/openapi.json``).

The shapes are part of the contract: fields are added, never renamed or removed, within
``/api/v1``. Units are in the names (``*_usd`` quote-currency notional or price, ``*_ms``
Unix milliseconds, ``*_pct`` percent). Non-finite numbers (an infinite ratio) are ``null``.

>>> Health(status="ok", source="bundled:x", venues=["binance"], symbols=["BTC/USDT:USDT"],
...        data_from_ms=0, data_to_ms=1, data_version="v").status
'ok'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "BriefOut", "CascadeOut", "ClustersOut", "ErrorOut", "Health", "HeatmapOut", "ImbalanceOut",
    "LevelApproachOut", "LevelApproachesOut", "MapOut", "MarketStateOut", "MaxPainOut",
    "RealizedOut", "RefreshOut", "ScanOut", "ScanRowOut", "ScorecardOut",
]


class ErrorOut(BaseModel):
    """An error: what went wrong and what to do (422, 403, 404, 503)."""

    detail: str
    retry_after_s: float | None = Field(None, description="503 only: when to retry")


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
    level_watch: bool = Field(False, description="the source keeps the level watch "
                              "(/api/v1/levels/approaches answers: a store)")
    venues_by_symbol: dict[str, list[str]] = Field(
        default_factory=dict, description="the venues holding each symbol (the dashboard's "
        "venue picker for the symbol picked)")


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


_CONVENTION = ("how the map counts positions: liqmap, or vendor (the way popular tools appear "
               "to count: openings never removed, one side per candle, high leverage)")


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
    warmup_bars: dict[str, int] = Field(default_factory=dict, description="bars each "
                                        "venue's engine ran before the lookback (its levels "
                                        "stand in the first column)")
    convention: Literal["liqmap", "vendor"] = Field("liqmap", description=_CONVENTION)


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
                          "total_short_usd, imbalance, clusters, densest_zone, harvest_level "
                          "(most notional per unit of push), squeeze_ceiling, flush_floor, "
                          "max_pain (deprecated name of harvest_level: not the posts' 'max "
                          "pain' (see squeeze_ceiling))")
    convention: Literal["liqmap", "vendor"] = Field("liqmap", description=_CONVENTION)


class ImbalanceOut(BaseModel):
    """Shorts above the price (up to ``short_to_usd``) over longs below it."""

    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    short_usd: float
    long_usd: float
    ratio: float | None
    short_from_usd: float
    short_to_usd: float
    long_from_usd: float
    long_to_usd: float
    ratio_low: float | None = None
    ratio_high: float | None = None


class ClusterOut(BaseModel):
    side: Literal["long", "short"]
    price_usd: float
    notional_usd: float
    from_usd: float
    to_usd: float
    distance_pct: float
    notional_low_usd: float | None = Field(
        None, description="the same extent on the low band map (null without band)")
    notional_high_usd: float | None = Field(
        None, description="the same extent on the high band map (null without band)")


class ClustersOut(BaseModel):
    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    clusters: list[ClusterOut]


class MaxPainLevel(BaseModel):
    """A harvest level (``liqmap.core.mapstats.harvest_level``; the model keeps its first name)."""

    price_usd: float | None
    notional_usd: float
    distance_pct: float | None
    side: Literal["long", "short", "none"]
    score_usd_per_pct2: float | None
    notional_low_usd: float | None = Field(
        None, description="a move to price_usd on the low band map (null without band)")
    notional_high_usd: float | None = Field(
        None, description="a move to price_usd on the high band map (null without band)")
    level_low_usd: float | None = Field(
        None, description="lowest harvest level of the low, central and high maps")
    level_high_usd: float | None = Field(
        None, description="highest harvest level of the low, central and high maps")


_BAND_MAPS = "of the levels found on the low, central and high band maps (null without band)"
_LEVEL_LOW, _LEVEL_HIGH = f"lowest {_BAND_MAPS}", f"highest {_BAND_MAPS}"


class SqueezeCeilingLevel(BaseModel):
    """``liqmap.core.mapstats.squeeze_ceiling``: the posts' "max pain" for the shorts."""

    price_usd: float | None = Field(description="the lowest price at or above the current one by "
                                    "which a rally has liquidated `share` of the shorts between "
                                    "the price and +reach_pct %; null when none stand in reach")
    distance_pct: float | None
    shorts_total_usd: float = Field(description="shorts between the price and +reach_pct %")
    shorts_liquidated_usd: float = Field(description="shorts a rally to price_usd liquidates")
    share: float
    reach_pct: float
    price_low_usd: float | None = Field(None, description=_LEVEL_LOW)
    price_high_usd: float | None = Field(None, description=_LEVEL_HIGH)


class FlushFloorLevel(BaseModel):
    """``liqmap.core.mapstats.flush_floor``: the mirror of the squeeze ceiling for the longs."""

    price_usd: float | None = Field(description="the highest price at or below the current one "
                                    "by which a fall has liquidated `share` of the longs between "
                                    "-reach_pct % and the price; null when none stand in reach")
    distance_pct: float | None
    longs_total_usd: float = Field(description="longs between -reach_pct % and the price")
    longs_liquidated_usd: float = Field(description="longs a fall to price_usd liquidates")
    share: float
    reach_pct: float
    price_low_usd: float | None = Field(None, description=_LEVEL_LOW)
    price_high_usd: float | None = Field(None, description=_LEVEL_HIGH)


class MaxPainOut(BaseModel):
    venue: str
    symbol: str
    ts_ms: int
    price_usd: float
    max_pain: MaxPainLevel = Field(description="deprecated name of harvest_level: not the "
                                   "posts' 'max pain' (see squeeze_ceiling)")
    harvest_level: MaxPainLevel | None = Field(
        None, description="the level that liquidates the most notional per unit of push "
        "(notional / distance**2, 0.5..15 % from the price)")
    squeeze_ceiling: SqueezeCeilingLevel | None = Field(
        None, description="what the posts call max pain: the price a short squeeze must reach "
        "to liquidate 90 % of the shorts within +50 %")
    flush_floor: FlushFloorLevel | None = Field(
        None, description="the mirror for longs: the price a fall must reach to liquidate "
        "90 % of the longs within -50 %")


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
    amplification: float | None = Field(description="final move / shock; null at 0")
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
    funding_now: float | None = Field(description="last funding rate per 8 h, fraction")
    funding_mean: float | None = Field(description="window mean funding per 8 h")
    realized_per_day: list[dict] = Field(
        description="per UTC day: long_usd, short_usd (empty without realized data)")
    imbalance_trend: list[dict] = Field(
        description="ts_ms, price_usd, short_usd, long_usd, ratio, short_share within +/-10 %")
    imbalance_trend_pp: float | None = Field(description="last minus first short_share, pp")
    sentences: list[str]
    state: dict = Field(description="the full MarketState record")


class LevelApproachOut(BaseModel):
    """One approach of a map cluster and what followed (``liqmap.store.LevelApproach``)."""

    venue: str
    symbol: str
    ts_ms: int = Field(description="open time of the bar whose close came within the distance")
    side: Literal["long", "short"]
    cluster_price_usd: float
    notional_usd: float
    price_usd: float = Field(description="close of the approach bar")
    distance_pct: float
    horizon_start_ms: int
    horizon_ms: int
    outcome: Literal["through", "rejected", "pending"]
    crossed_ts_ms: int | None
    max_beyond_pct: float
    move_pct: float
    realized_long_usd: float
    realized_short_usd: float
    map_ts_ms: int | None = None


class LevelApproachesOut(BaseModel):
    """The stored level watch (``liqmap watch --db --record``, or live) and its summary."""

    venue: str | None
    symbol: str | None
    since_ms: int | None
    approaches: list[LevelApproachOut]
    approaches_truncated: bool = Field(description="true when only the newest `limit` are "
                                       "listed (the summary counts them all)")
    summary: dict = Field(description="per side: approaches, through, rejected, pending, "
                          "through_share, median_realized_usd_through / _rejected")


class BriefBand(BaseModel):
    """Shorts in +0..+within_pct % against longs in -within_pct..0 % (null: the whole map,
    within +/-50 %)."""

    within_pct: float | None
    shorts_usd: float
    longs_usd: float
    shorts_to_usd: float
    longs_to_usd: float
    ratio: float | None = Field(description="shorts / longs (null when infinite)")
    ratio_low: float | None = None
    ratio_high: float | None = None


class BriefOut(BaseModel):
    """The map read as traders read one (``liqmap.studies.brief.brief_for``; ``liqmap brief
    --json`` gives the same numbers)."""

    venue: str
    symbol: str
    ts_ms: int
    time: str = Field(description="ts_ms as ISO text, UTC")
    price_usd: float
    bands: list[BriefBand] = Field(description="within 5, 10, 20 % and the whole map")
    layers: dict = Field(description="per side (short, long): layers (clusters ordered "
                         "outward), staircase (notional rising with distance), staircase_score")
    densest_zone: dict
    squeeze_ceiling: dict = Field(description="liqmap.core.mapstats.squeeze_ceiling")
    squeeze_ceiling_usd: float | None
    flush_floor: dict = Field(description="liqmap.core.mapstats.flush_floor")
    flush_floor_usd: float | None
    max_pain: dict = Field(description="the posts' meaning: the squeeze ceiling or the flush "
                           "floor, whichever side stands heavier")
    harvest_level: dict = Field(description="the most notional liquidated per unit of push")
    watch_levels: dict = Field(description="the next levels to watch above and below")
    caveat: dict = Field(description="measured (from a scorecard or the level watch) or generic")
    convention: dict = Field(description="the counting convention, what it means and, when "
                             "the level test exists, how far it stood from realized")
    model: dict = Field(description="the model's parameters")
    tiers: str = Field("", description="the margin-tier table the map applied (a table "
                       "fetched into the store says 'fetched <day> (store)'; a symbol without "
                       "one: the venue's BTC table, said so)")
    lookback: str | None = Field(description="positions counted: opened within it (null: all)")
    text: str = Field(description="the paragraph (ratios written N:1)")
    data_version: str = ""


class ScorecardOut(BaseModel):
    dir: str | None = Field(None, description="the folder of the metrics files")
    windows: dict | None = Field(
        None, description="window name -> metrics-<W>.json of liqmap backtest")
    running: dict | None = Field(
        None, description="the running scorecard of a store's live predictions "
        "(liqmap.scorecard.running.running_scorecard): spans, metrics, verdicts, series")


class RefreshOut(BaseModel):
    status: Literal["refreshed"]
    data_version: str


class ScanCluster(BaseModel):
    """The cluster of one side nearest the price (of its five largest)."""

    price_usd: float
    notional_usd: float
    distance_pct: float


class ScanLevel(BaseModel):
    """A squeeze ceiling or flush floor: its price and distance from the price."""

    price_usd: float
    distance_pct: float


class ScanTiers(BaseModel):
    """A tier table: whose, which version, whether checked against the venue."""

    venue: str
    symbol: str
    version: str
    verified: bool
    stored: bool = Field(False, description="fetched into the store (liqmap tiers --refresh; "
                         "version = the fetch day), not shipped")


class ScanRowOut(BaseModel):
    """One symbol on one venue (``liqmap.scaleout.scan.scan_row``): its final map in numbers."""

    venue: str
    symbol: str
    source: str
    generated: bool
    bars: int
    ts_ms: int
    price_usd: float
    shorts_10pct_usd: float
    longs_10pct_usd: float
    imbalance_10pct: float | None = Field(None, description="shorts over longs within 10 %")
    shorts_20pct_usd: float
    longs_20pct_usd: float
    imbalance_20pct: float | None = Field(None, description="shorts over longs within 20 %")
    log_imbalance_20pct: float | None = Field(None, description="ln(shorts / longs) within 20 %")
    nearest_long_cluster: ScanCluster | None = None
    nearest_short_cluster: ScanCluster | None = None
    squeeze_ceiling: ScanLevel | None = None
    flush_floor: ScanLevel | None = None
    rules: str = Field(description="'own tiers', or 'fallback BTC tiers' (the venue's BTC "
                       "table: no table of the symbol is shipped or fetched into the store)")
    tiers: ScanTiers | None = None
    own_tiers: ScanTiers | None = None


class ScanOut(BaseModel):
    """The market at once (``liqmap scan``): one row per symbol and venue, sorted."""

    source: str
    data_version: str
    lookback: str | None = Field(None, description="each series' window (null: all bars)")
    venues: list[str] = Field(description="the venues scanned")
    symbols: list[str] = Field(description="the symbols scanned")
    sorts: list[str] = Field(description="the sort orders there are")
    sort_by: str
    scheduler: str
    n_series: int
    n_rows: int
    n_tasks: int
    batch_size: int
    seconds: float
    task_seconds: float
    generated: bool = Field(description="some series are generated, not market data")
    notes: list[str] = []
    rows: list[ScanRowOut]

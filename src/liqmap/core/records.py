"""Read-only result records of the numeric core (frozen, slotted dataclasses of arrays).

Units are in the names: ``ts_ms`` is Unix epoch milliseconds (bar open), ``*_usd`` is
quote-currency notional (USDT for linear contracts), ``price_bins_usd`` are bin centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Ceiling",
    "Cluster",
    "Floor",
    "HarvestLevel",
    "Heatmap",
    "Imbalance",
    "Layers",
    "LiqMap",
    "MaxPain",
    "WatchLevels",
    "Zone",
]


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Liquidation book over time: frames x price bins, per side.

    Attributes
    ----------
    ts_ms : (F,) int64
        Time of each frame (the open time of the bar after which the book was read).
    price_bins_usd : (P,) float64
        Price-bin centres, ascending, evenly spaced by ``bin_usd``.
    long_usd, short_usd : (F, P) float64
        Notional (qty x level price) that would be liquidated at each bin, per frame.
    price_ts_ms, price_close_usd, price_high_usd, price_low_usd : (T,)
        The bar series the book was built from (for the price line).
    """

    ts_ms: np.ndarray
    price_bins_usd: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    price_ts_ms: np.ndarray
    price_close_usd: np.ndarray
    price_high_usd: np.ndarray
    price_low_usd: np.ndarray
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        p = self.price_bins_usd
        return float(p[1] - p[0]) if p.size > 1 else 0.0


@dataclass(frozen=True, slots=True)
class LiqMap:
    """The liquidation map at one moment: levels per price bin and side.

    Longs are liquidated when price falls to a level (they sit below ``price_usd``),
    shorts when it rises to one (above ``price_usd``).

    Attributes
    ----------
    ts_ms : int
        Moment of the map (open time of the last bar included).
    price_usd : float
        Reference (last close) price.
    price_bins_usd : (P,) float64
        Bin centres, ascending.
    long_usd, short_usd : (P,) float64
        Notional liquidated if price reaches the bin.
    long_low_usd, long_high_usd, short_low_usd, short_high_usd : (P,) float64 or None
        Band from the spread of leverage presets (None when no band was computed).
    venue : str
        Venue name or ``"aggregate"`` when several venues were summed.
    """

    ts_ms: int
    price_usd: float
    price_bins_usd: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    long_low_usd: np.ndarray | None = None
    long_high_usd: np.ndarray | None = None
    short_low_usd: np.ndarray | None = None
    short_high_usd: np.ndarray | None = None
    venue: str = "binance"
    symbol: str = "BTC/USDT:USDT"

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        p = self.price_bins_usd
        return float(p[1] - p[0]) if p.size > 1 else 0.0


@dataclass(frozen=True, slots=True)
class Imbalance:
    """Shorts in an upside band against longs in a downside band.

    ``ratio`` is ``short_usd / long_usd`` (inf when no longs, nan when both are zero).
    Bands are given as fractions of price: ``up_pct=0.2`` means price to price x 1.2.
    """

    short_usd: float
    long_usd: float
    ratio: float
    short_from_usd: float
    short_to_usd: float
    long_from_usd: float
    long_to_usd: float
    ratio_low: float | None = None
    ratio_high: float | None = None


@dataclass(frozen=True, slots=True)
class Cluster:
    """A peak of the map: ``notional_usd`` of one side around ``price_usd``.

    ``notional_low_usd`` / ``notional_high_usd``: the same extent summed over the map's
    low and high band arrays (None when the map has no band).
    """

    side: str  # "long" or "short"
    price_usd: float
    notional_usd: float
    from_usd: float
    to_usd: float
    distance_pct: float  # signed, (price_usd / reference price - 1) * 100
    notional_low_usd: float | None = None
    notional_high_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """The densest zone of one side: the window of fixed width holding the most notional."""

    side: str
    from_usd: float
    to_usd: float
    notional_usd: float
    distance_pct: float  # signed distance of the zone centre from the reference price, %
    notional_low_usd: float | None = None  # same window on the low band (None: no band)
    notional_high_usd: float | None = None  # same window on the high band


@dataclass(frozen=True, slots=True)
class HarvestLevel:
    """Harvest level: the price that liquidates the most notional per unit of push.

    The score is ``notional / distance**2`` (the push a move needs grows like the square of
    its distance). Not the posts' "max pain" (the level a squeeze is stacked up to): that
    is ``Ceiling`` / ``Floor``. The written definition and its parameters live in
    ``liqmap.core.mapstats.harvest_level``, and so does the definition of the band fields
    (None when the map has no band): ``notional_low_usd`` / ``notional_high_usd`` (the
    notional at this level on the low and high band maps) and ``level_low_usd`` /
    ``level_high_usd`` (the span of the harvest levels found on the low, central and high
    maps).
    """

    price_usd: float
    notional_usd: float
    distance_pct: float
    side: str
    score_usd_per_pct2: float = float("nan")  # notional / distance_pct**2 (the ranking score)
    notional_low_usd: float | None = None
    notional_high_usd: float | None = None
    level_low_usd: float | None = None
    level_high_usd: float | None = None


#: Deprecated name of ``HarvestLevel`` (kept for callers of liqmap <= 0.1; same fields).
MaxPain = HarvestLevel


@dataclass(frozen=True, slots=True)
class Ceiling:
    """Squeeze ceiling: the lowest price by which a rally liquidates ``share`` of the shorts.

    The shorts counted are those between the price and ``+reach_pct`` %; see
    ``liqmap.core.mapstats.squeeze_ceiling``. ``price_usd`` and ``distance_pct`` are nan
    (and both notionals zero) when no short stands within the reach. ``price_low_usd`` /
    ``price_high_usd``: the lowest and highest of the ceilings found on the low, central and
    high band maps (None when the map has no short band).
    """

    price_usd: float
    distance_pct: float  # signed, (price_usd / reference price - 1) * 100, >= 0
    shorts_total_usd: float  # shorts between the price and +reach_pct %
    shorts_liquidated_usd: float  # shorts a rally to price_usd liquidates
    share: float  # the fraction of shorts_total_usd the ceiling liquidates (at least)
    reach_pct: float
    price_low_usd: float | None = None
    price_high_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Floor:
    """Flush floor: the highest price by which a fall liquidates ``share`` of the longs.

    The mirror of ``Ceiling`` for the longs between ``-reach_pct`` % and the price; see
    ``liqmap.core.mapstats.flush_floor``.
    """

    price_usd: float
    distance_pct: float  # signed, <= 0
    longs_total_usd: float  # longs between -reach_pct % and the price
    longs_liquidated_usd: float  # longs a fall to price_usd liquidates
    share: float
    reach_pct: float
    price_low_usd: float | None = None
    price_high_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Layers:
    """The clusters of one side within reach, ordered outward from the price.

    ``staircase``: at least three layers and the notional rises strictly with distance.
    ``staircase_score``: Spearman rank correlation of distance and notional over the layers,
    in [-1, 1] (nan for fewer than three layers or equal notionals). See
    ``liqmap.core.mapstats.layers``.
    """

    side: str
    layers: tuple[Cluster, ...]
    staircase: bool
    staircase_score: float


@dataclass(frozen=True, slots=True)
class WatchLevels:
    """The next cluster levels each way, nearest first: ``(price_usd, notional_usd,
    distance_pct)`` tuples; ``above`` holds short clusters, ``below`` long clusters.
    See ``liqmap.core.mapstats.watch_levels``."""

    above: tuple[tuple[float, float, float], ...]
    below: tuple[tuple[float, float, float], ...]
    reach_pct: float

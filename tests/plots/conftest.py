"""Synthetic but realistic records for the plot tests.

A seeded random walk around 90,000 USD over 7 days of 5-minute bars; every 15 minutes new
leveraged positions open at the price and put liquidation levels at +-1 %, 2 %, 4 % and
10 % of it (longs below, shorts above); a level is consumed (and recorded as a realized
liquidation) when a bar's low or high crosses it. One dense short wall sits above the
whole price path, so it is the brightest thing on the heatmap.
"""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.core.records import Cluster, HarvestLevel, Heatmap, Imbalance, LiqMap, Zone

T0_MS = 1_736_121_600_000  # 2025-01-06 00:00 UTC
BAR_MS = 300_000
BARS_PER_FRAME = 3
OFFSETS = (0.01, 0.02, 0.04, 0.10)
WEIGHTS = (0.35, 0.30, 0.20, 0.15)
WALL_USD = 2.0e9


def make_bars(seed: int = 7, n: int = 7 * 288) -> dict[str, np.ndarray]:
    """Random-walk 5-minute bars around 90,000 USD."""
    rng = np.random.default_rng(seed)
    close = 90_000 * np.exp(np.cumsum(rng.normal(0, 0.0012, n)))
    open_ = np.concatenate([[90_000.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.0007, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    ts = T0_MS + BAR_MS * np.arange(n, dtype=np.int64)
    return {"ts_ms": ts, "close": close, "high": high, "low": low}


def _add_levels(book: np.ndarray, bins: np.ndarray, price: float, sign: int, usd: float) -> None:
    """Add ``usd`` of levels at ``price * (1 + sign * offset)`` with a Gaussian spread."""
    for d, w in zip(OFFSETS, WEIGHTS):
        centre = price * (1 + sign * d)
        g = np.exp(-0.5 * ((bins - centre) / (price * 0.0012 * (1 + 4 * d))) ** 2)
        book += usd * w * g / g.sum()


def make_heatmap(seed: int = 7) -> tuple[Heatmap, tuple, float]:
    """Heatmap, realized liquidations ``(ts_ms, price_usd, notional_usd, side)``, wall price."""
    b = make_bars(seed)
    bins = np.arange(70_000.0, 112_000.0, 50.0)
    wall_px = float(np.ceil(b["high"].max() * 1.02 / 50) * 50)
    n_frames = b["ts_ms"].size // BARS_PER_FRAME
    long_book, short_book = np.zeros(bins.size), np.zeros(bins.size)
    short_book[np.abs(bins - wall_px) <= 50] += WALL_USD / 3
    longs, shorts, realized = np.empty((n_frames, bins.size)), np.empty((n_frames, bins.size)), []
    for f in range(n_frames):
        sl = slice(f * BARS_PER_FRAME, (f + 1) * BARS_PER_FRAME)
        px, lo, hi = b["close"][sl][-1], b["low"][sl].min(), b["high"][sl].max()
        t = int(b["ts_ms"][sl][-1])
        for book, hit, side, at in ((long_book, bins >= lo, "long", lo),
                                    (short_book, bins <= hi, "short", hi)):
            gone = book[hit].sum()
            if gone > 2e6:
                realized.append((t, at, gone, side))
            book[hit] = 0.0
        long_book *= 0.998
        short_book *= 0.998
        _add_levels(long_book, bins, px, -1, 25e6)
        _add_levels(short_book, bins, px, +1, 25e6)
        longs[f], shorts[f] = long_book, short_book
    ts = b["ts_ms"][BARS_PER_FRAME - 1::BARS_PER_FRAME][:n_frames]
    hm = Heatmap(ts_ms=ts, price_bins_usd=bins, long_usd=longs, short_usd=shorts,
                 price_ts_ms=b["ts_ms"], price_close_usd=b["close"], price_high_usd=b["high"],
                 price_low_usd=b["low"])
    cols = list(zip(*realized))
    real = (np.array(cols[0]), np.array(cols[1]), np.array(cols[2]), np.array(cols[3]))
    return hm, real, wall_px


def make_map(hm: Heatmap, bands: bool = True) -> LiqMap:
    """The map at the heatmap's last frame, with a leverage band of x0.6 .. x1.5."""
    long_, short_ = hm.long_usd[-1].copy(), hm.short_usd[-1].copy()
    extra = {}
    if bands:
        extra = dict(long_low_usd=0.6 * long_, long_high_usd=1.5 * long_,
                     short_low_usd=0.6 * short_, short_high_usd=1.5 * short_)
    return LiqMap(ts_ms=int(hm.ts_ms[-1]), price_usd=float(hm.price_close_usd[-1]),
                  price_bins_usd=hm.price_bins_usd, long_usd=long_, short_usd=short_, **extra)


def map_marks(m: LiqMap) -> dict:
    """Imbalance (+-20 %), top clusters, densest long zone and harvest level, computed plainly."""
    b, p = m.price_bins_usd, m.price_usd
    up, dn = (b >= p) & (b <= 1.2 * p), (b <= p) & (b >= 0.8 * p)
    s_usd, l_usd = float(m.short_usd[up].sum()), float(m.long_usd[dn].sum())
    imb = Imbalance(short_usd=s_usd, long_usd=l_usd, ratio=s_usd / l_usd, short_from_usd=p,
                    short_to_usd=1.2 * p, long_from_usd=0.8 * p, long_to_usd=p)
    clusters = []
    for side, arr in (("short", m.short_usd), ("long", m.long_usd)):
        for i in np.argsort(arr)[::-1][:40:10]:
            w = slice(max(i - 4, 0), i + 5)
            clusters.append(Cluster(side=side, price_usd=float(b[i]),
                                    notional_usd=float(arr[w].sum()), from_usd=float(b[w][0]),
                                    to_usd=float(b[w][-1]), distance_pct=(b[i] / p - 1) * 100))
    win = np.convolve(m.long_usd, np.ones(20), mode="same")
    j = int(np.argmax(win))
    zone = Zone(side="long", from_usd=float(b[j] - 500), to_usd=float(b[j] + 500),
                notional_usd=float(win[j]), distance_pct=(b[j] / p - 1) * 100)
    cum_s = np.cumsum(np.where(b >= p, m.short_usd, 0))
    k = int(np.argmax(np.where(b >= p, cum_s, -1)))
    mp = HarvestLevel(price_usd=float(b[k]), notional_usd=float(cum_s[k]),
                      distance_pct=(b[k] / p - 1) * 100, side="short")
    return dict(imbalance=imb, clusters=tuple(clusters), zone=zone, max_pain=mp)


@pytest.fixture(scope="session")
def synth():
    """(heatmap, realized, wall price) built once per session."""
    return make_heatmap()


@pytest.fixture(scope="session")
def synth_map(synth):
    """(map with bands, its marks) at the heatmap's last frame."""
    m = make_map(synth[0])
    return m, map_marks(m)


class Pixels:
    """Read a PNG and find colours in it (RGB floats in 0..1, row 0 at the top)."""

    @staticmethod
    def read(path) -> np.ndarray:
        import matplotlib.image as mpimg

        return mpimg.imread(str(path))[..., :3]

    @staticmethod
    def at(fig, ax, x, y) -> tuple[int, int]:
        """Image (row, col) of data point (x, y) of ``ax`` in a PNG saved at ``fig.dpi``.

        The figure must have been drawn (``panel`` draws it) so its layout is final.
        """
        dx, dy = ax.transData.transform((x, y))
        height = int(round(fig.get_figheight() * fig.dpi))
        return int(round(height - dy)), int(round(dx))

    @staticmethod
    def panel(fig, ax) -> tuple[slice, slice]:
        """Image rows and columns inside the axes (a 2-pixel margin inside its frame)."""
        fig.canvas.draw()
        bb = ax.get_window_extent()
        height = int(round(fig.get_figheight() * fig.dpi))
        return (slice(int(height - bb.y1) + 2, int(height - bb.y0) - 2),
                slice(int(bb.x0) + 2, int(bb.x1) - 2))

    @staticmethod
    def yellow(img: np.ndarray) -> np.ndarray:
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        return (r > 0.75) & (g > 0.75) & (b < 0.4)

    @staticmethod
    def white(img: np.ndarray, floor: float = 0.85) -> np.ndarray:
        """Light grey to white (every channel above ``floor``)."""
        return img.min(axis=-1) > floor

    @staticmethod
    def red(img: np.ndarray) -> np.ndarray:
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        return (r > 0.5) & (r - g > 0.35) & (r - b > 0.3)

    @staticmethod
    def green(img: np.ndarray) -> np.ndarray:
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        return (g > 0.4) & (g - r > 0.25) & (g - b > 0.1)

    @staticmethod
    def border_luminance(img: np.ndarray, width: int = 4) -> float:
        """Median luminance of the outer frame of the image."""
        frame = np.concatenate([img[:width].reshape(-1, 3), img[-width:].reshape(-1, 3),
                                img[:, :width].reshape(-1, 3), img[:, -width:].reshape(-1, 3)])
        return float(np.median(frame @ np.array([0.2126, 0.7152, 0.0722])))


@pytest.fixture(scope="session")
def px():
    """Pixel helpers (see ``Pixels``)."""
    return Pixels

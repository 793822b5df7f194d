"""Views to JSON: the bodies of the API's answers (shapes in :mod:`liqmap.service.schemas`).

Heavy bodies (heatmap, map) are rendered once per view and key to ``bytes``, compressed
once (:class:`Encoded`: a 680 kB heatmap is about 140 kB gzipped) and cached, so a cached
answer costs the server a copy of bytes only; the others are small dicts. Non-finite
numbers become ``null`` (strict JSON).

>>> dumps({"a": float("inf"), "b": [1.0, float("nan")]})
b'{"a":null,"b":[1.0,null]}'
>>> accepts_gzip("br, gzip;q=0.8"), accepts_gzip("gzip;q=0"), accepts_gzip(None)
(True, False, False)
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from liqmap.core import mapstats
from liqmap.core.heatgrid import pick_frames
from liqmap.core.mapstats import jsonable
from liqmap.core.records import LiqMap
from liqmap.timeutil import iso_minute

__all__ = ["Encoded", "accepts_gzip", "cascade_body", "dumps", "floats", "heatmap_body",
           "map_body", "map_csv", "map_csv_name", "realized_body", "realized_events"]

MAX_HEATMAP_EVENTS = 2000
MAX_EVENTS = 10_000
#: Bodies shorter than this are sent as they are (gzip would save little).
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6


@dataclass(frozen=True, slots=True)
class Encoded:
    """A JSON body and its gzip form (None when short), compressed once, sent many times."""

    raw: bytes
    gzip: bytes | None

    @classmethod
    def of(cls, raw: bytes) -> Encoded:
        small = len(raw) < GZIP_MIN_BYTES
        return cls(raw, None if small else gzip.compress(raw, GZIP_LEVEL, mtime=0))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an ``Accept-Encoding`` header allows gzip (``gzip`` or ``*``, q > 0)."""
    for part in (accept_encoding or "").split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            try:
                return not q.startswith("q=") or float(q[2:]) > 0
            except ValueError:
                return False
    return False




def dumps(obj) -> bytes:
    """Compact strict JSON (non-finite floats as null)."""
    return json.dumps(jsonable(obj), separators=(",", ":"), allow_nan=False).encode()


def floats(a, decimals: int = 2) -> list:
    """A float array as a JSON-ready list, rounded, non-finite as None."""
    a = np.asarray(a, dtype=float)
    if np.isfinite(a).all():
        return np.round(a, decimals).tolist()
    return [None if not math.isfinite(x) else round(x, decimals) for x in a.tolist()]


def realized_events(liq, limit: int) -> tuple[list[dict], bool]:
    """Events as dicts (time order); the ``limit`` largest by notional when there are more."""
    if liq is None or len(liq) == 0:
        return [], False
    idx = np.arange(len(liq))
    truncated = idx.size > limit
    if truncated:
        idx = np.sort(np.argsort(-np.asarray(liq.notional_usd), kind="stable")[:limit])
    ts, px = liq.ts_ms[idx].tolist(), floats(liq.price[idx])
    side, usd = liq.side[idx].tolist(), floats(liq.notional_usd[idx])
    return [{"ts_ms": t, "price_usd": p, "side": "long" if s > 0 else "short",
             "notional_usd": u} for t, p, s, u in zip(ts, px, side, usd)], truncated


def heatmap_body(view, resolution: int) -> bytes:
    """The heatmap answer: at most ``resolution`` frames (evenly picked), whole USD values."""
    idx = pick_frames(view.hm_ts_ms.size, resolution)  # the charts' rule too
    b = view.price_bars
    events, _ = realized_events(view.realized, MAX_HEATMAP_EVENTS)
    return dumps({
        "venue": view.key.venue, "symbol": view.key.symbol, "lookback": view.key.lookback,
        "data_version": view.version, "ts_ms": view.hm_ts_ms[idx].tolist(),
        "price_bins_usd": floats(view.hm_bins_usd),
        "long_usd": np.round(view.hm_long_usd[idx]).tolist(),
        "short_usd": np.round(view.hm_short_usd[idx]).tolist(),
        "price": {"ts_ms": b.ts_ms.tolist(), "close_usd": floats(b.close),
                  "high_usd": floats(b.high), "low_usd": floats(b.low)},
        "realized": events, "lookback_clamped": view.lookback_clamped,
        "warmup_bars": dict(view.warmup_bars), "convention": view.key.convention,
    })


def _trim(m: LiqMap) -> slice:
    """Bins from the first to the last holding notional (the price bin always kept)."""
    used = np.flatnonzero((m.long_usd > 0) | (m.short_usd > 0))
    at = int(np.clip(np.searchsorted(m.price_bins_usd, m.price_usd), 0,
                     m.price_bins_usd.size - 1))
    if not used.size:
        return slice(at, at + 1)
    return slice(min(int(used[0]), at), max(int(used[-1]), at) + 1)


def map_body(view, m: LiqMap) -> bytes:
    """The map answer (bins trimmed to where there is notional) with its summary."""
    cum_long, cum_short = mapstats.cumulative(m)
    s = _trim(m)
    return dumps({
        "venue": view.key.venue, "symbol": view.key.symbol, "lookback": view.key.lookback,
        "data_version": view.version, "ts_ms": int(m.ts_ms), "price_usd": m.price_usd,
        "price_bins_usd": floats(m.price_bins_usd[s]), "long_usd": floats(m.long_usd[s]),
        "short_usd": floats(m.short_usd[s]), "cumulative_long_usd": floats(cum_long[s]),
        "cumulative_short_usd": floats(cum_short[s]), "summary": mapstats.summary(m),
        "convention": view.key.convention,
    })


#: Columns of the map's CSV (``/api/v1/map?format=csv``), one row per price bin.
MAP_CSV_COLUMNS = ("price_usd", "long_usd", "short_usd", "cumulative_long_usd",
                   "cumulative_short_usd", "long_low_usd", "long_high_usd", "short_low_usd",
                   "short_high_usd")


def map_csv(view, m: LiqMap) -> str:
    """The map as CSV: the bins of :func:`map_body` (trimmed to where there is notional),
    the notional per bin, the cumulative curves from the price and the band (the low and
    high band maps per bin; empty cells without band)."""
    cum_long, cum_short = mapstats.cumulative(m)
    s = _trim(m)
    cols = [m.price_bins_usd, m.long_usd, m.short_usd, cum_long, cum_short, m.long_low_usd,
            m.long_high_usd, m.short_low_usd, m.short_high_usd]
    cols = [None if c is None else np.asarray(c, float)[s] for c in cols]
    lines = [",".join(MAP_CSV_COLUMNS)]
    for i in range(s.stop - s.start):
        lines.append(",".join("" if c is None or not math.isfinite(c[i]) else f"{c[i]:.2f}"
                              for c in cols))
    return "\n".join(lines) + "\n"


def map_csv_name(view, m: LiqMap) -> str:
    """The CSV's file name: venue, symbol, time and convention."""
    sym = "".join(ch if ch.isalnum() else "-" for ch in view.key.symbol).strip("-")
    return (f"liqmap-{view.key.venue}-{sym}-{iso_minute(int(m.ts_ms)).replace(':', '')}"
            f"-{view.key.convention}.csv")


def head(view, m: LiqMap) -> dict:
    """The fields every map-derived answer starts with."""
    return {"venue": view.key.venue, "symbol": view.key.symbol, "ts_ms": int(m.ts_ms),
            "price_usd": float(m.price_usd)}


def cascade_body(view, m: LiqMap, res) -> dict:
    """``CascadeResult`` as the cascade answer, with a per-step path."""
    ref = res.reference_price_usd
    liq = res.liq_long_usd.sum(axis=1) + res.liq_short_usd.sum(axis=1)
    path = [{"step": i, "t_s": float(t), "price_usd": float(p),
             "move_pct": 100.0 * (float(p) / ref - 1.0), "liquidated_usd": float(q)}
            for i, (t, p, q) in enumerate(zip(res.t_s, res.price_usd, liq))]
    return {**{k: v for k, v in head(view, m).items() if k != "price_usd"},
            "reference_price_usd": ref, "shock_pct": res.shock_pct,
            "final_move_pct": res.move_pct, "peak_move_pct": res.peak_move_pct,
            "amplification": res.amplification,
            "liquidated_long_usd": float(res.liq_long_usd.sum()),
            "liquidated_short_usd": float(res.liq_short_usd.sum()),
            "truncated": bool(res.truncated), "path": path}


def realized_body(venue, symbol, start_ms, end_ms, liq, bars) -> dict:
    """Realized events in ``[start_ms, end_ms)`` and their totals per bar of ``bars``."""
    events, truncated = realized_events(liq, MAX_EVENTS)
    sel = bars.window(start_ms, end_ms)
    if liq is not None and len(sel):
        long_usd, short_usd = liq.per_bar(sel.ts_ms, max(sel.bar_ms, 1))
    else:
        long_usd = short_usd = np.zeros(len(sel))
    return {"venue": venue, "symbol": symbol, "start_ms": int(start_ms), "end_ms": int(end_ms),
            "available": liq is not None, "events": events, "events_truncated": truncated,
            "per_bar": {"ts_ms": sel.ts_ms.tolist(), "long_usd": floats(long_usd),
                        "short_usd": floats(short_usd)}}


def record(obj) -> dict:
    """A core record (``Cluster``, ``HarvestLevel``, ``Imbalance``) as a clean dict."""
    return jsonable(asdict(obj))

"""The brief: a liquidation map read the way traders read one, in numbers and one paragraph.

The posts this answers read a map like this: "$14B of shorts between 84k and 100k against
under $1B of longs below: 14 to 1"; "layered like a staircase: 88k, 92k, 96k, denser as you
go higher"; "max pain 104k: the short-squeeze ceiling"; "watch how price behaves at 85k, then
90k, then 95k". :func:`read_map` computes each of those from one :class:`LiqMap` with the
map statistics of :mod:`liqmap.core.mapstats` (nothing new is estimated here), and
:func:`brief_text` writes them as a paragraph a trader could post.

The caveat is measured when a scorecard exists (:func:`measured_caveat`: how often price
reached the map's largest cluster and what it liquidated, from ``metrics-levels-<W>.json`` of
``liqmap backtest --levels``; or the level watch of a store), else a plain warning.

>>> b = read_map(estimate.final_map)          # doctest: +SKIP
>>> b["text"]                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from liqmap._exceptions import DataError
from liqmap.core import mapstats as ms
from liqmap.core.records import LiqMap
from liqmap.fmt import fmt_price, fmt_usd
from liqmap.timeutil import iso_minute

__all__ = ["BAND_PCTS", "GENERIC_CAVEAT", "brief_for", "brief_of_map", "brief_text",
           "convention_note", "levels_file", "measured_caveat", "read_map"]

BAND_PCTS = (5, 10, 20)
REACH_PCT = 50.0
GENERIC_CAVEAT = ("A liquidation map is an estimate from open interest and price, not a "
                  "record of positions: no scorecard was found for these data, so how often "
                  "price reached such clusters is not measured here (run `liqmap backtest "
                  "--levels` or keep `liqmap watch --db --record` running).")


def _band_row(m: LiqMap, pct: float | None) -> dict[str, Any]:
    up, down = (REACH_PCT / 100, REACH_PCT / 100) if pct is None else (pct / 100, pct / 100)
    imb = ms.imbalance(m, up, down)
    return {"within_pct": pct, "shorts_usd": imb.short_usd, "longs_usd": imb.long_usd,
            "shorts_to_usd": imb.short_to_usd, "longs_to_usd": imb.long_to_usd,
            "ratio": imb.ratio, "ratio_low": imb.ratio_low, "ratio_high": imb.ratio_high}


def _layers(m: LiqMap) -> dict[str, Any]:
    out = {}
    for sd in ("short", "long"):
        lay = ms.layers(m, sd, reach_pct=REACH_PCT)
        out[sd] = {"layers": [asdict(x) if not isinstance(x, dict) else x for x in lay.layers],
                   "staircase": lay.staircase, "staircase_score": lay.staircase_score}
    return out


def read_map(m: LiqMap, *, caveat: dict | None = None) -> dict[str, Any]:
    """Every figure of the brief (JSON-ready; see the module docstring).

    Keys: ``venue``, ``symbol``, ``ts_ms``, ``price_usd``, ``bands`` (shorts in +0..+x %
    and longs in -x..0 % for x = 5, 10, 20 and the whole map within +/-50 %, each with its
    ratio and band), ``layers`` (per side, clusters ordered outward, staircase and its
    score), ``densest_zone``, ``squeeze_ceiling``/``squeeze_ceiling_usd``,
    ``flush_floor``/``flush_floor_usd``, ``max_pain`` (the posts' meaning: the ceiling or
    the floor, whichever side stands heavier), ``harvest_level`` (liqmap's most notional per
    unit of push), ``watch_levels``, ``caveat`` and ``text``.
    """
    ceiling = ms.squeeze_ceiling(m, reach_pct=REACH_PCT)
    floor = ms.flush_floor(m, reach_pct=REACH_PCT)
    whole = _band_row(m, None)
    heavier = "short" if whole["shorts_usd"] >= whole["longs_usd"] else "long"
    pain = ceiling if heavier == "short" else floor
    watch = ms.watch_levels(m)
    out = {
        "venue": m.venue, "symbol": m.symbol, "ts_ms": int(m.ts_ms), "time": iso_minute(
            int(m.ts_ms)), "price_usd": m.price_usd,
        "bands": [_band_row(m, x) for x in BAND_PCTS] + [whole],
        "layers": _layers(m),
        "densest_zone": {sd: asdict(ms.densest_zone(m, sd)) for sd in ("short", "long")},
        "squeeze_ceiling": asdict(ceiling), "squeeze_ceiling_usd": ceiling.price_usd,
        "flush_floor": asdict(floor), "flush_floor_usd": floor.price_usd,
        "max_pain": {"side": heavier, "price_usd": pain.price_usd,
                     "definition": "the posts' max pain: the squeeze ceiling when shorts stand "
                     "heavier within +/-50 %, else the flush floor (the map JSON's "
                     "deprecated max_pain key is the harvest level instead)",
                     "what": "the squeeze ceiling (shorts heavier)" if heavier == "short"
                     else "the flush floor (longs heavier)"},
        "harvest_level": asdict(ms.harvest_level(m)),
        "watch_levels": watch if isinstance(watch, dict) else asdict(watch),
        "caveat": caveat or {"measured": False, "text": GENERIC_CAVEAT},
    }
    out = ms.jsonable(out)
    out["text"] = brief_text(out)
    return out


def _ratio_text(ratio: float | None) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "shorts only" if ratio is not None else "no positions"
    if ratio >= 1:
        return f"{ratio:.1f}:1 shorts to longs"
    return f"{1 / ratio:.1f}:1 longs to shorts" if ratio > 0 else "longs only"


def _band_text(row: dict[str, Any]) -> str:
    lo, hi = row.get("ratio_low"), row.get("ratio_high")
    if lo is None and hi is None:
        return ""
    f = (lambda v: "inf" if v is None else f"{v:.2g}")  # noqa: E731
    return f" (shorts/longs {f(lo)} to {f(hi)} over the leverage presets)"


def _k(price: float | None) -> str:
    return "-" if price is None else fmt_price(price)


def brief_text(b: dict[str, Any]) -> str:
    """The paragraph of a brief (``read_map``'s figures; the ratio written ``N:1``)."""
    p = b["price_usd"]
    ten = next(r for r in b["bands"] if r["within_pct"] == 10)
    whole = b["bands"][-1]
    when = b["time"].replace("T", " ").rstrip("Z")
    parts = [f"{b['symbol']} on {b['venue']} at {_k(p)} ({when} UTC)."]
    parts.append(f"Within 10 %: {fmt_usd(ten['shorts_usd'])} of shorts above against "
                 f"{fmt_usd(ten['longs_usd'])} of longs below, {_ratio_text(ten['ratio'])}"
                 + _band_text(ten) + ".")
    parts.append(f"Within 50 %: {fmt_usd(whole['shorts_usd'])} of shorts against "
                 f"{fmt_usd(whole['longs_usd'])} of longs, {_ratio_text(whole['ratio'])}.")
    for sd, word, way in (("short", "Shorts", "higher"), ("long", "Longs", "lower")):
        lay = b["layers"][sd]
        levels = [_k(x["price_usd"]) for x in lay["layers"][:4]]
        if len(levels) >= 2:
            score = lay["staircase_score"]
            shape = (f"layered like a staircase, denser as you go {way}" if lay["staircase"]
                     else "the nearer layers are the heavier" if score is not None
                     and score <= -0.5 else "no staircase (notional does not rise with "
                     "distance)")
            parts.append(f"{word} stand at {', '.join(levels)}: {shape}.")
    c, f = b["squeeze_ceiling"], b["flush_floor"]
    if c["price_usd"] is not None:
        parts.append(f"Squeeze ceiling {_k(c['price_usd'])} ({c['distance_pct']:+.1f} %): a "
                     f"rally there liquidates 90 % of the {fmt_usd(c['shorts_total_usd'])} "
                     "of shorts within +50 %.")
    if f["price_usd"] is not None:
        parts.append(f"Flush floor {_k(f['price_usd'])} ({f['distance_pct']:+.1f} %) for the "
                     f"{fmt_usd(f['longs_total_usd'])} of longs within -50 %.")
    w = b["watch_levels"]
    ups = [_k(x[0] if isinstance(x, list) else x["price_usd"]) for x in w.get("above", [])]
    downs = [_k(x[0] if isinstance(x, list) else x["price_usd"]) for x in w.get("below", [])]
    if ups or downs:
        parts.append(f"Watch {', then '.join(ups) or 'nothing'} above and "
                     f"{', then '.join(downs) or 'nothing'} below.")
    parts.append(b["caveat"]["text"])
    return " ".join(parts)


#: The series of the research windows' level tests (their files predate the venue and
#: symbol keys): Binance BTC/USDT:USDT.
_WINDOW_SERIES = {"A": ("binance", "BTC/USDT:USDT"), "C": ("binance", "BTC/USDT:USDT")}


def levels_file(scorecard_dir: str | Path | None, venue: str, symbol: str
                ) -> tuple[Path, dict[str, Any]] | None:
    """The level test's ``metrics-levels-<W>.json`` in ``scorecard_dir`` measured on the same
    venue and symbol as the map (the full run before a ``-calibration`` one), read; None
    when there is none.

    Raises
    ------
    DataError
        A file that is not the level test's JSON (names it and the command that rewrites it).
    """
    if scorecard_dir is None or not Path(scorecard_dir).is_dir():
        return None
    files = sorted(Path(scorecard_dir).glob("metrics-levels-*.json"),
                   key=lambda f: (f.stem.endswith("-calibration"), f.name))
    for f in files:
        try:
            d = json.loads(f.read_text())
            series = (d["venue"], d["symbol"]) if "venue" in d else _WINDOW_SERIES.get(
                d["window"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not a level-test result ({type(exc).__name__}: {exc}); re-run "
                            "`liqmap backtest --levels --out DIR` or remove the file",
                            source=str(f)) from None
        if series == (venue, symbol):
            return f, d
    return None


def measured_caveat(scorecard_dir: str | Path | None = None, store=None, *, venue: str = "",
                    symbol: str = "") -> dict[str, Any] | None:
    """The measured caveat: from the level watch of ``store`` when it has resolved
    approaches for the series, else from the level test's file of the same series in
    ``scorecard_dir``; None when neither."""
    if store is not None:
        got = _watch_caveat(store, venue, symbol)
        if got is not None:
            return got
    found = levels_file(scorecard_dir, venue, symbol)
    if found is None:
        return None
    path, d = found
    try:
        return _levels_caveat(d, path)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the level test's wall claims are incomplete ({exc!r}); re-run "
                        "`liqmap backtest --levels`", source=str(path)) from None


def _levels_caveat(d: dict[str, Any], path: Path) -> dict[str, Any] | None:
    walls = d.get("claims", {}).get("walls", {})
    span = "scoring" if "scoring" in walls else "calibration"
    cl = walls.get(span, {}).get("24", {}).get("cluster")
    if not cl:
        return None
    hit = next((e for e in cl["effects"] if e["name"] == "cluster_hit_rate"), None)
    size = cl.get("size_ratio", {})
    if hit is None:
        return None
    sig = "indistinguishable from" if hit["ci_low"] <= 0 <= hit["ci_high"] else (
        "above" if hit["ci_low"] > 0 else "below")
    text = (f"Measured on window {d.get('window', '?')} ({span} span, "
            f"{hit['n']} cases): price reached the map's largest cluster within 24 h in "
            f"{hit['mean_event']:.0%} of cases against {hit['mean_control']:.0%} for levels "
            f"the same distance away at other times ({sig} chance)")
    if size.get("median") is not None:
        text += (f"; when reached, realized liquidations were a median "
                 f"{size['median']:.0%} of the map's notional there")
    return {"measured": True, "source": str(path), "span": span,
            "hit_rate": hit["mean_event"], "control_rate": hit["mean_control"],
            "n": hit["n"], "text": text + "."}


def _watch_caveat(store, venue: str, symbol: str) -> dict[str, Any] | None:
    """The level watch's through/rejected counts (``summarize_approaches``), from 5
    resolved approaches on."""
    from liqmap.core.tiers import VENUES
    from liqmap.watch.approaches import summarize_approaches

    one = venue if venue in VENUES else None  # an aggregate map: every venue's approaches
    summ = summarize_approaches(store.read_level_approaches(one, symbol))
    thr = sum(v["through"] for v in summ.values())
    done = thr + sum(v["rejected"] for v in summ.values())
    if done < 5:
        return None
    through = thr / done
    return {"measured": True, "source": f"level watch of {getattr(store, 'path', 'the store')}",
            "n": done, "through_rate": through,
            "text": (f"Measured by this store's level watch: of {done} approaches to the "
                     f"map's clusters, {through:.0%} went through and {1 - through:.0%} were "
                     "rejected.")}


def convention_note(convention: str, scorecard_dir: str | Path | None = None,
                    horizon_h: int = 24, *, venue: str = "binance",
                    symbol: str = "BTC/USDT:USDT") -> dict[str, Any]:
    """What the counting convention is, and how far it and liqmap's map stood from realized
    liquidations in the level test of the same series (``vendor_overstatement`` of
    ``metrics-levels-<W>.json``, ``horizon_h`` hours ahead) when that file exists."""
    what = ("liqmap: both sides of each opening, levels shrink when open interest falls, the "
            "default leverage mix" if convention != "vendor" else
            "vendor-style (how popular tools appear to count): every open-interest rise opens "
            "positions on the candle's side only, at 25-100x, never removed when open "
            "interest falls")
    out: dict[str, Any] = {"convention": convention, "what": what, "measured": None}
    found = levels_file(scorecard_dir, venue, symbol)
    if found is not None:
        path, d = found
        over = d.get("vendor_overstatement", {})
        span = "scoring" if "scoring" in over else "calibration"
        by = over.get(span, {}).get(str(horizon_h))
        try:
            if by:
                out["measured"] = {"window": d.get("window"), "span": span,
                                   "horizon_h": horizon_h,
                                   **{f"{k}_{sd}": by[sd][k] for sd in ("long", "short")
                                      for k in ("vendor_over_realized", "map_over_realized")}}
        except (KeyError, TypeError) as exc:
            raise DataError(f"the level test's vendor figures are incomplete ({exc!r}); "
                            "re-run `liqmap backtest --levels`", source=str(path)) from None
    return out


def _convention_text(note: dict[str, Any]) -> str:
    m = note.get("measured")
    text = f"Convention: {note['what']}."
    if m:
        text += (f" In the level test (window {m['window']}, {m['span']} span, "
                 f"{m['horizon_h']} h ahead) the vendor-style map stood at "
                 f"{m['vendor_over_realized_long']:.1f}x (longs) and "
                 f"{m['vendor_over_realized_short']:.1f}x (shorts) what was realized, "
                 f"liqmap's at {m['map_over_realized_long']:.1f}x and "
                 f"{m['map_over_realized_short']:.1f}x.")
    return text


def brief_for(bars, *, model=None, lookback: str | None = None, at_ms: int | None = None,
              scorecard_dir: str | Path | None = "scorecard", store=None) -> dict[str, Any]:
    """Run the map (``model``, default the product's default map) over ``bars`` and read it.

    The CLI (``liqmap brief``) and the API (``/api/v1/brief``) both call this. The
    ``convention`` key says how the map counts positions (``model.convention``) and, when
    the level test's file exists, how far each convention stood from realized liquidations.
    The ``tiers`` key names the margin-tier table the map applied (``Estimate.tier_table``:
    for bars read from a store, a table fetched into it on or before the map's time).
    """
    from liqmap.model import LiquidationModel

    model = model or LiquidationModel()
    est = model.run(bars, lookback=lookback, at_ms=at_ms,
                    warmup=None if lookback is None else "0")  # positions opened within it
    return brief_of_map(est.final_map, model=model, lookback=lookback,
                        scorecard_dir=scorecard_dir, store=store, tiers=est.tier_table)


def brief_of_map(m: LiqMap, *, model, lookback: str | None = None,
                 scorecard_dir: str | Path | None = "scorecard", store=None,
                 tiers: str = "") -> dict[str, Any]:
    """:func:`brief_for`'s reading of a map already run with ``model`` (the API's brief of
    an aggregate reads the venues' summed map with it); ``tiers``: the tier tables the map
    applied (``Estimate.tier_table``, one per venue joined by ``; ``)."""
    sc = scorecard_dir if scorecard_dir and Path(scorecard_dir).is_dir() else None
    cav = measured_caveat(sc, store, venue=m.venue, symbol=m.symbol)
    out = read_map(m, caveat=cav)
    out["convention"] = convention_note(model.convention, sc, venue=m.venue,
                                        symbol=m.symbol)
    if model.convention == "vendor":
        out["text"] = _convention_text(out["convention"]) + " " + out["text"]
    out["model"] = model.to_dict()
    out["tiers"] = tiers
    out["lookback"] = lookback
    return ms.jsonable(out)

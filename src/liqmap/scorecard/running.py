"""The running scorecard: the live map's stored predictions against realized liquidations.

``liqmap live --db`` stores, for each closed bar, the liquidations the map predicted per side
(the store's ``predictions`` table) next to the bar and the realized liquidations the
venue's stream delivered. :func:`running_scorecard` reads them back and scores, for each
rolling span ending at the last stored prediction (24 h, 7 d, 30 d by default) and for the
whole selection (``"all"``), the model and the naive baselines exactly as a backtest does
(:func:`liqmap.scorecard.backtest.score_all`, :mod:`liqmap.scorecard.metrics`):

- realized liquidations are the stored events summed per prediction bar
  (:meth:`liqmap.core.realized.RealizedLiquidations.per_bar`);
- the baselines come from the stored bars (open, high, low; open interest at the close of
  the bar before), :func:`liqmap.scorecard.backtest.baselines_of`'s predictors;
- a prediction bar is scored when its bar and the bar before it are stored (as a backtest
  skips the bar after a gap);
- there is no calibration span: every span is scored as the scoring span, with the log
  line of ``r2_log`` fitted on the span itself (in sample, as a backtest without a
  calibration span fits it).

Binance publishes at most one liquidation per symbol and second, so its realized figures
are a lower bound (``realized_lower_bound``); ``total_ratio`` above 1 is then expected.

``liqmap scorecard --db FILE`` prints the result; ``/api/v1/scorecard?since_ms=...`` serves
it from a store the service reads. Both call this function.

>>> card = running_scorecard(open_store("live.duckdb"), "binance", "BTC/USDT:USDT")  # doctest: +SKIP
>>> card["spans"]["24h"]["verdict"]["long"]["excursion"]["statement"]              # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from liqmap._exceptions import ConfigError, InputError
from liqmap.model import LOOKBACKS_MS
from liqmap.scorecard.backtest import BASELINES, SIDES, score_all
from liqmap.scorecard.metrics import baselines, compare
from liqmap.store import canonical_series

__all__ = ["MAX_POINTS", "SPANS", "running_scorecard", "stored_prediction_series"]

SPANS = ("24h", "7d", "30d")
MAX_POINTS = 500
"""Most points of the returned time series (longer ones are summed into coarser buckets)."""


def _path(store) -> str:
    return str(getattr(store, "path", type(store).__name__))


def stored_prediction_series(store) -> list[tuple[str, str]]:
    """``(venue, symbol)`` of every series with stored predictions, sorted."""
    return sorted({(s.venue, s.symbol) for s in store.series() if s.table == "predictions"})


def _pick(store, venue: str | None, symbol: str | None) -> tuple[str, str]:
    """The series to score: the one asked, or the only stored one that matches."""
    if venue is not None and symbol is not None:
        return canonical_series(venue, symbol)
    held = stored_prediction_series(store)
    match = [vs for vs in held if (venue is None or vs[0] == canonical_series(
        venue, vs[1])[0]) and (symbol is None or vs[1] == canonical_series(vs[0], symbol)[1])]
    if len(match) == 1:
        return match[0]
    fix = (f"run `liqmap live --db {_path(store)}` first: it stores each closed bar's "
           "predicted liquidations") if not held else "choose one with --venue and --symbol"
    raise InputError(f"store {_path(store)} holds predictions of "
                     f"{[f'{v} {s}' for v, s in held] or 'no series'}"
                     f"{'' if not match else ' (several match)'}; {fix}")


def _predictions(store, venue: str, symbol: str, since_ms, until_ms):
    rows = store.read_predictions(venue, symbol, since_ms, until_ms)
    if not rows:
        span = "" if since_ms is None and until_ms is None else " in the span asked"
        raise InputError(f"no predictions of {venue} {symbol} stored in {_path(store)}{span}; "
                         f"run `liqmap live --db {_path(store)} --venue {venue} --symbol "
                         f"{symbol}` first (it stores each closed bar's predicted "
                         "liquidations), or widen --since/--until")
    bar_ms = int(rows[-1].bar_ms)
    rows = [r for r in rows if r.bar_ms == bar_ms]  # a change of timeframe: the latest one
    ts = np.array([r.ts_ms for r in rows], np.int64)
    pred = {"long": np.array([r.predicted_long_usd for r in rows], float),
            "short": np.array([r.predicted_short_usd for r in rows], float)}
    return ts, bar_ms, pred, rows[-1].params


def _inputs(store, venue: str, symbol: str, ts: np.ndarray, bar_ms: int):
    """Baselines, realized per bar and the scored mask at the prediction bars ``ts``."""
    end_ms = int(ts[-1]) + bar_ms
    bars = store.read_bars(venue, symbol, int(ts[0]) - bar_ms, end_ms)
    bts = np.asarray(bars.ts_ms, np.int64)
    if not bts.size:
        raise InputError(f"store {_path(store)} holds predictions of {venue} {symbol} but no "
                         "bars of their span; store the bars again (liqmap live --db, or "
                         "liqmap download / ingest-bars for that span)")
    idx = np.clip(np.searchsorted(bts, ts), 0, bts.size - 1)
    prev = np.clip(idx - 1, 0, None)
    scored = (bts[idx] == ts) & (idx > 0) & (bts[prev] == ts - bar_ms)
    # open interest at the bar's open = at the close of the bar before (as a backtest)
    base = baselines(bars.open[idx], bars.high[idx], bars.low[idx], bars.open_interest[prev])
    liq = store.read_realized(venue, symbol, int(ts[0]), end_ms)
    long_usd, short_usd = liq.per_bar(ts, bar_ms)
    lower = venue == "binance" or "lower bound" in (liq.source or "")
    return ({b: {"long": v[0], "short": v[1]} for b, v in base.items()},
            {"long": np.asarray(long_usd, float), "short": np.asarray(short_usd, float)},
            scored, lower)


def _span(label: str, sel: np.ndarray, ts, pred, base, real, start_ms, end_ms,
          nominal_ms) -> dict:
    """Scores of the model and the baselines over the bars ``sel`` (``nominal_ms``: where
    the span would start were it covered, for ``complete``)."""
    n = int(sel.sum())
    out = {"span": label, "start_ms": int(start_ms), "end_ms": int(end_ms), "n_bars": n,
           "first_ts_ms": int(ts[sel][0]) if n else None,
           "complete": bool(n) and int(ts[sel][0]) <= int(nominal_ms),
           "totals_usd": {f"{k}_{sd}": float(v[sd][sel].sum())
                          for k, v in (("predicted", pred), ("realized", real)) for sd in SIDES}}
    if not n:
        return {**out, "metrics": None, "verdict": None}
    preds = {"model": {sd: pred[sd][sel] for sd in SIDES},
             **{b: {sd: base[b][sd][sel] for sd in SIDES} for b in BASELINES}}
    scores = score_all(preds, {sd: real[sd][sel] for sd in SIDES}, np.zeros(n, bool),
                       np.ones(n, bool), usd={"model"})["scoring"]
    metrics = {sd: {p: m.to_dict() for p, m in scores[sd].items()} for sd in SIDES}
    words = f"over the last {label}" if label != "all" else "over the selection"
    verdict: dict = {sd: {} for sd in SIDES}
    for sd in SIDES:
        for b in BASELINES:
            c = compare(scores[sd]["model"], scores[sd][b])
            verdict[sd][b] = {"beats": c.beats, "wins": list(c.wins),
                              "statement": c.statement(sd, b, words)}
    return {**out, "metrics": metrics, "verdict": verdict}


def _series(ts: np.ndarray, bar_ms: int, pred: dict, real: dict, max_points: int) -> dict:
    """Predicted and realized per side, summed into buckets of whole bars (<= max_points)."""
    k = max(1, math.ceil((int(ts[-1] - ts[0]) // bar_ms + 1) / max_points))
    bucket_ms = k * bar_ms
    b = (ts - ts[0]) // bucket_ms
    keep, inv = np.unique(b, return_inverse=True)
    out: dict = {"bucket_ms": int(bucket_ms),
                 "ts_ms": (ts[0] + keep * bucket_ms).astype(np.int64).tolist()}
    for k_, v in (("predicted", pred), ("realized", real)):
        for sd in SIDES:
            out[f"{k_}_{sd}_usd"] = np.bincount(inv, weights=v[sd], minlength=keep.size).tolist()
    return out


def running_scorecard(store, venue: str | None = None, symbol: str | None = None, *,
                      since_ms: int | None = None, until_ms: int | None = None,
                      spans=SPANS, max_points: int = MAX_POINTS) -> dict:
    """Score the stored live predictions of one series over rolling spans.

    Parameters
    ----------
    store : Store
        A store written by ``liqmap live --db`` (``read_predictions``, ``read_bars``,
        ``read_realized``, ``series``).
    venue, symbol : str, optional
        The series (any spelling the store accepts); default the only one with stored
        predictions.
    since_ms, until_ms : int, optional
        Read predictions with ``since_ms <= ts_ms < until_ms`` only.
    spans : sequence of str
        Rolling spans ending at the last stored prediction (names of
        :data:`liqmap.model.LOOKBACKS_MS`); each is clipped to ``since_ms``.
    max_points : int
        Most points of the time series.

    Returns
    -------
    dict
        JSON-ready: ``venue``, ``symbol``, ``store``, ``bar_ms``, ``end_ms`` (close of the
        last prediction bar), ``realized_lower_bound``, ``spans`` (``{label: {n_bars,
        complete, metrics: {side: {predictor: SideMetrics}}, verdict, totals_usd}}``, plus
        ``"all"``), ``series`` (the time series) and ``notes``.

    Raises
    ------
    InputError
        No predictions stored for the series (names the store and ``liqmap live --db``).
    ConfigError
        An unknown span name.
    """
    bad = [s for s in spans if s not in LOOKBACKS_MS]
    if bad:
        raise ConfigError(f"unknown span(s) {bad}: use names of {list(LOOKBACKS_MS)}")
    venue, symbol = _pick(store, venue, symbol)
    ts, bar_ms, pred, params = _predictions(store, venue, symbol, since_ms, until_ms)
    base, real, scored, lower = _inputs(store, venue, symbol, ts, bar_ms)
    end_ms = int(ts[-1]) + bar_ms
    first = int(ts[0]) if since_ms is None else int(since_ms)
    out = {}
    for label in (*spans, "all"):
        nominal = first if label == "all" else end_ms - LOOKBACKS_MS[label]
        start = max(nominal, first)
        out[label] = _span(label, scored & (ts >= start), ts, pred, base, real, start, end_ms,
                           nominal)
    notes = ["no calibration span: r2_log's line is fitted on each span itself (in sample)"]
    if lower:
        notes.append("realized: a lower bound (the venue's feed drops liquidations); "
                     "total_ratio above 1 is expected")
    if (~scored).any():
        notes.append(f"{int((~scored).sum())} prediction bars not scored: their bar or the bar "
                     "before it is not in the store")
    return {"kind": "running", "venue": venue, "symbol": symbol, "store": _path(store),
            "bar_ms": bar_ms, "since_ms": since_ms, "until_ms": until_ms,
            "first_ts_ms": int(ts[0]), "last_ts_ms": int(ts[-1]), "end_ms": end_ms,
            "n_predictions": int(ts.size), "n_scored": int(scored.sum()),
            "realized_lower_bound": bool(lower), "model": params, "spans": out,
            "series": _series(ts, bar_ms, pred, real, max_points), "notes": notes}

"""``liqmap live``: backfill, then stream closed bars and update the map bar by bar."""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

__all__ = ["register"]

WARM = o.warm_bars(288, "Closed bars fetched over REST before streaming.")
DB = o.db("DuckDB file: write bars, each bar's predicted liquidations, realized liquidations "
          "and map snapshots there (read back by `liqmap scorecard --db`).")
MAX_BARS = typer.Option(None, "--max-bars", help="Stop after this many bars per venue "
                        "(after the warm-up). Default: run until interrupted.")
BAND_PCT = typer.Option(0.2, "--band-pct", help="Imbalance band, fraction of price "
                        "(0.2 = shorts within +20% vs longs within -20%).")


def _num(x: float) -> float | None:
    """JSON-safe number: inf/nan (an empty side) become null."""
    return float(x) if x == x and abs(x) != float("inf") else None


def _printer(runner_ref: list, as_json: bool, band: float):
    from liqmap.core import mapstats

    def on_bar(u) -> None:
        model = runner_ref[0].models[u.venue]
        imb = mapstats.imbalance(model.current_map(), band, band)
        if as_json:
            print(json.dumps({"type": "bar", **u.to_dict(), "imbalance_ratio": _num(imb.ratio),
                              "imbalance_short_usd": imb.short_usd,
                              "imbalance_long_usd": imb.long_usd}), flush=True)
        else:
            print(f"{u.venue:8s} {u.ts_ms} close {u.close_usd:>12,.2f}  predicted long "
                  f"{u.predicted_long_usd:>14,.0f}  short {u.predicted_short_usd:>14,.0f}  "
                  f"imbalance {imb.ratio:.3f} ({u.source})", flush=True)

    def on_gap(g) -> None:
        if as_json:
            print(json.dumps({"type": "gap", "venue": g.venue, "from_ms": g.from_ms,
                              "to_ms": g.to_ms, "bars_backfilled": g.bars_backfilled,
                              "reason": g.reason,
                              "liquidations_backfilled": g.liquidations_backfilled}),
                  flush=True)
        else:
            print(f"{g.venue:8s} gap ({g.reason}): {g.bars_backfilled} bars and "
                  f"{g.liquidations_backfilled} liquidations backfilled over REST, "
                  f"{g.from_ms}..{g.to_ms}", flush=True)

    return on_bar, on_gap


def _summary(runner, sink, band: float) -> dict:
    from liqmap.core import mapstats

    agg = runner.aggregate_map()
    imb = mapstats.imbalance(agg, band, band)
    return {"type": "summary", "venues": sorted(runner.models),
            "bars": {v: len(runner.bars(v)) for v in runner.models},
            "updates": len(sink.updates), "gaps": len(sink.gaps),
            "liquidations": len(sink.liquidations),
            "liquidations_lower_bound": any(e.lower_bound for e in sink.liquidations),
            "oi_carried": {v: runner.oi_carried(v) for v in runner.models},
            "aggregate": {"ts_ms": agg.ts_ms, "price_usd": agg.price_usd,
                          "long_usd": float(agg.long_usd.sum()),
                          "short_usd": float(agg.short_usd.sum()),
                          "imbalance_ratio": _num(imb.ratio)}}


def run_live(*, venues, symbol, timeframe, warm_bars, db, ws_urls, rest_urls, max_bars, stall_s,
             now, band, as_json, flags, config, snapshot_every: int = 12) -> dict:
    """Build the feeds, the runner and the sinks; run; return the summary."""
    from liqmap.cli.config import build_model
    from liqmap.live.runner import LiveRunner, venue_feeds
    from liqmap.live.sinks import RecordingSink, StoreSink, TeeSink

    model = build_model(flags, config_path=config)
    ref: list = []
    on_bar, on_gap = _printer(ref, as_json, band)
    rec = RecordingSink(on_bar=on_bar, on_gap=on_gap)
    store = store_sink = None
    sink: RecordingSink | TeeSink = rec
    if db:
        from liqmap.store import DuckDBStore  # lazy: optional heavy dependency

        store = DuckDBStore(db)
        store_sink = StoreSink(store, params={"command": "live"}, snapshot_every=snapshot_every)
        from liqmap.watch.approaches import ApproachSink  # the level watch, stored live

        sink = TeeSink(store_sink, rec, ApproachSink(store))
    now_ms = parse_time_ms(now)
    runner = LiveRunner(venue_feeds(venues, symbol, timeframe, ws_urls=ws_urls,
                                    rest_urls=rest_urls), model,
                        warm_bars=warm_bars, max_bars=max_bars, stall_s=stall_s, sink=sink,
                        clock_ms=(lambda: now_ms) if now_ms is not None else None)
    ref.append(runner)
    try:
        runner.run_sync()
    except KeyboardInterrupt:
        pass
    finally:
        summary = _summary(runner, rec, band) if runner.models else {"type": "summary"}
        if store is not None and store_sink is not None:  # set together
            for m in runner.models.values():
                store_sink.snapshot(m)
            store.record_run("live", {**model.to_dict(), "venues": list(venues),
                                      "symbol": symbol}, summary)
            store.close()
    return summary


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("live")
    def live(
        venue: list[str] = o.STREAM_VENUES, symbol: str = o.STREAM_SYMBOL,
        timeframe: str = o.TIMEFRAME, warm_bars: int = WARM, db: str | None = DB,
        ws_url: list[str] | None = o.WS_URL, rest_url: list[str] | None = o.REST_URL,
        max_bars: int | None = MAX_BARS, stall_s: float = o.STALL,
        now: str | None = o.NOW, snapshot_every: int = o.SNAPSHOT_EVERY,
        band_pct: float = BAND_PCT, as_json: bool = o.JSON, config: str | None = o.CONFIG,
        leverage: str | None = o.LEVERAGE, side_model: str | None = o.SIDE_MODEL,
        oi_policy: str | None = o.OI_POLICY, half_life: str | None = o.HALF_LIFE,
        bin_usd: float | None = o.BIN_USD, band: str | None = o.BAND,
    ) -> None:
        """Backfill over REST, then stream closed bars (and liquidations) from one or more
        venues; print each bar's predicted liquidations and imbalance, and gap events.
        Each venue is estimated with its own liquidation rules; the summary sums them."""
        flags = o.model_flags(None, leverage, side_model, None, oi_policy, half_life, None,
                              bin_usd, band, None)
        summary = run_live(venues=venue, symbol=symbol, timeframe=timeframe,
                           warm_bars=warm_bars, db=db, ws_urls=ws_url, rest_urls=rest_url,
                           max_bars=max_bars, stall_s=stall_s, now=now, band=band_pct,
                           as_json=as_json, flags=flags, config=config,
                           snapshot_every=snapshot_every)
        if as_json:
            print(json.dumps(summary, default=float))
        else:
            a = summary.get("aggregate", {})
            print(f"done: {summary.get('updates', 0)} bar updates, {summary.get('gaps', 0)} "
                  f"gaps, {summary.get('liquidations', 0)} liquidation events; aggregate map "
                  f"long {a.get('long_usd', 0):,.0f} USD, short {a.get('short_usd', 0):,.0f} "
                  f"USD, imbalance ratio {a.get('imbalance_ratio')}")

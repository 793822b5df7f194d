"""``liqmap scorecard``: the running scorecard of a store filled by ``liqmap live --db``.

Prints, for the last 24 h, 7 d and 30 d of stored predictions (and the whole selection),
the model's and the naive baselines' scores per side against the realized liquidations
stored beside them, and the verdicts (:func:`liqmap.scorecard.running.running_scorecard`,
which ``/api/v1/scorecard`` serves too).
"""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o
from liqmap.timeutil import parse_time_ms

__all__ = ["register"]

DB = o.db("DuckDB store written by `liqmap live --db` (default $LIQMAP_DB or ./liqmap.duckdb).")
VENUE = o.venue(None, "Venue of the stored predictions (default: the only one stored).")
SYMBOL = o.symbol(None, "ccxt symbol of the stored predictions (default: the only one stored).")
SINCE = o.since(None, "Score predictions from this time on (ISO UTC or Unix ms); the rolling "
                "spans are clipped to it.")
UNTIL = typer.Option(None, "--until", help="Score predictions before this time only (ISO UTC "
                     "or Unix ms); the rolling spans end at the last one before it.")
JSON = o.as_json("Print the running scorecard as one JSON object.")

_COLS = (("spearman", "spearman"), ("r2_log", "r2_log"), ("total_ratio", "pred/real"),
         ("top_decile_share", "top10%_share"), ("n_bars", "bars"))


def _fmt(v) -> str:
    if v is None:
        return "-"
    return str(v) if isinstance(v, int) else f"{v:.3f}"


def _print(card: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from liqmap.fmt import fmt_usd
    from liqmap.timeutil import utc_label

    con = Console()
    lb = " (realized: a lower bound)" if card["realized_lower_bound"] else ""
    con.print(f"[bold]{card['venue']} {card['symbol']}[/] running scorecard, store "
              f"{card['store']}: {card['n_predictions']:,} predicted bars "
              f"{utc_label(card['first_ts_ms'])} -> {utc_label(card['end_ms'])}{lb}")
    for label, sp in card["spans"].items():
        cover = "" if sp["complete"] or label == "all" else ", partly covered"
        title = (f"{label}: {utc_label(sp['start_ms'])} -> {utc_label(sp['end_ms'])} "
                 f"({sp['n_bars']} bars{cover})")
        if not sp["metrics"]:
            con.print(f"{title}: no scored bar")
            continue
        t = Table(title=title)
        for c in ("side", "predictor", *(h for _, h in _COLS)):
            t.add_column(c, no_wrap=True)
        for side, preds in sp["metrics"].items():
            for name, m in preds.items():
                t.add_row(side, name, *(_fmt(m[k]) for k, _ in _COLS))
        con.print(t)
        tot = sp["totals_usd"]
        con.print("predicted / realized: long " + fmt_usd(tot["predicted_long"]) + " / "
                  + fmt_usd(tot["realized_long"]) + ", short " + fmt_usd(tot["predicted_short"])
                  + " / " + fmt_usd(tot["realized_short"]))
        for by_base in sp["verdict"].values():
            for v in by_base.values():
                con.print(v["statement"])
    for note in card["notes"]:
        con.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("scorecard")
    def scorecard(db: str | None = DB, venue: str | None = VENUE, symbol: str | None = SYMBOL,
                  since: str | None = SINCE, until: str | None = UNTIL,
                  as_json: bool = JSON) -> None:
        """The running scorecard: the live map's stored per-bar predictions against the
        realized liquidations stored beside them, over the last 24 h, 7 d and 30 d, with
        the same naive baselines as `liqmap backtest`."""
        from liqmap.scorecard.running import running_scorecard
        from liqmap.store import open_store

        since_ms, until_ms = parse_time_ms(since), parse_time_ms(until)
        with open_store(db, read_only=True) as store:
            card = running_scorecard(store, venue, symbol, since_ms=since_ms,
                                     until_ms=until_ms)
        if as_json:
            print(json.dumps(card, allow_nan=False))
        else:
            _print(card)

"""``liqmap study-levels``: level reaction and magnet study, effects with 95 % intervals."""

from __future__ import annotations

import json

import typer

from liqmap.cli import _options as o

__all__ = ["register"]

_WINDOW = o.window(None, "Scorecard window from the shared data (A).")
_SAMPLE = o.sample(None, "Bundled sample name instead of a window.")
_INPUT = o.input_file(None, "Bar file instead of a window.")
_OUT = o.out("scorecard", "Folder for studies.json, studies.png and studies.html.")
_JSON = o.as_json("Print studies.json's content.")


def register(app: typer.Typer) -> None:
    """Add ``study-levels`` to ``app``."""

    @app.command("study-levels")
    def study_levels_cmd(
        window: str | None = _WINDOW, sample: str | None = _SAMPLE,
        input_path: str | None = _INPUT, realized: str | None = o.REALIZED,
        db: str | None = o.SCORING_DB,
        venue: str | None = o.venue(None, "Series of --db (default binance)."),
        symbol: str | None = o.symbol(None, "Series of --db (default BTC/USDT:USDT)."),
        data_dir: str | None = o.DATA_DIR,
        out: str = _OUT, as_json: bool = _JSON,
    ) -> None:
        """What price does at the map's clusters vs random levels at the same distance
        (acceleration, rejection) and whether the largest cluster draws price (magnet).
        Parameters are fixed a priori (liqmap.studies.reaction); nothing is fitted."""
        from liqmap.cli.cmd_state import load_source
        from liqmap.studies.level_study import level_study

        if window is None and sample is None and input_path is None and db is None:
            window = "A"
        bars, _ = load_source(window, sample, input_path, data_dir, realized=realized, db=db,
                              venue=venue, symbol=symbol)
        res = level_study(bars)
        files = res.write(out)
        d = res.to_dict()
        if as_json:
            print(json.dumps({"studies": d["studies"], "params": d["params"],
                              "window": d["window"], "files": files}, allow_nan=False))
            return
        for s in d["studies"]:
            print(s["statement"])
        print(f"wrote {files['json']}, {files['png']} and {files['html']}")

"""``liqmap scorecard --db``: the running scorecard of a store, as JSON and as tables."""

from __future__ import annotations

import json

import pytest
from tests.scorecard.test_running import SYM, fill
from typer.testing import CliRunner

from liqmap.cli import app, main
from liqmap.io.sample import load_sample
from liqmap.scorecard.running import running_scorecard
from liqmap.store import DuckDBStore
from liqmap.timeutil import iso_minute


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "live.duckdb"
    with DuckDBStore(path) as store:
        fill(store, bars=load_sample().take(slice(0, 3 * 288)))
    return path


def test_json_is_the_library_answer(db):
    res = CliRunner().invoke(app, ["scorecard", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    with DuckDBStore(db, read_only=True) as store:
        want = json.loads(json.dumps(running_scorecard(store, "binance", SYM)))
    assert json.loads(res.output) == want


def test_since_narrows_and_the_tables_show_spans_and_verdicts(db):
    with DuckDBStore(db, read_only=True) as store:
        end = running_scorecard(store)["end_ms"]
    since = iso_minute(end - 12 * 3_600_000)
    res = CliRunner().invoke(app, ["scorecard", "--db", str(db), "--venue", "binanceusdm",
                                   "--symbol", "BTCUSDT", "--since", since])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "running scorecard" in out and "(144 bars, partly covered)" in out
    assert "the model" in out and "excursion" in out and "lower bound" in out
    js = CliRunner().invoke(app, ["scorecard", "--db", str(db), "--since", since, "--json"])
    assert json.loads(js.output)["spans"]["all"]["n_bars"] == 144


def test_a_store_without_predictions_exits_2_naming_the_file_and_the_fix(tmp_path, capsys):
    path = tmp_path / "ingested.duckdb"
    with DuckDBStore(path) as store:
        store.write_bars(load_sample().take(slice(0, 10)))
    with pytest.raises(SystemExit) as exc:
        main(["scorecard", "--db", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert str(path) in err and "liqmap live --db" in err

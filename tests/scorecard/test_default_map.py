"""The default map is the candidate that scores best on the calibration span's level test."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.scorecard.default_map import candidates, pick
from liqmap.scorecard.preset import load_preset
from liqmap.scorecard.windows import default_data_dir

DATA = default_data_dir()
HAVE = any(DATA.glob("raw/coinglass_ismethanhtung/coinglass_BTC_regime_1h_*.csv.gz"))
needs_data = pytest.mark.skipif(not HAVE, reason=f"shared data not found at {DATA}; set "
                                "LIQMAP_SHARED_DATA")


def test_pick_takes_the_higher_mean_r2_log_then_spearman():
    f = {"prior": {"mean_r2_log": 0.44, "mean_spearman": 0.70},
         "fitted": {"mean_r2_log": 0.43, "mean_spearman": 0.90}}
    assert pick(f) == "prior"
    f["fitted"]["mean_r2_log"] = 0.44
    assert pick(f) == "fitted"  # tie on r2_log: Spearman decides
    f["fitted"]["mean_r2_log"] = np.nan
    assert pick(f) == "prior"  # a candidate without figures never wins


def test_candidates_share_the_fitted_bins():
    c = candidates(load_preset())
    assert set(c) == {"prior", "fitted"}
    assert c["prior"].model.bin_usd == c["fitted"].model.bin_usd
    assert c["prior"].model.leverage == "all-leverage"


@needs_data
def test_the_choice_reads_the_calibration_span_only_and_matches_the_product_default():
    r = CliRunner().invoke(app, ["backtest", "--levels", "--calibration-only",
                                 "--choose-default-map", "--json", "--data-dir", str(DATA)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["calibration_end_ms"] == 1_769_904_000_000
    for f in out["candidates"].values():
        assert set(f["per_horizon"]) == {"1", "4", "24", "168"}
    # the figures README.md's default-map table states (calibration span only)
    got = {n: (round(f["mean_r2_log"], 3), round(f["mean_spearman"], 3))
           for n, f in out["candidates"].items()}
    assert got == {"prior": (0.444, 0.711), "fitted": (0.432, 0.693)}
    # the product's default engine (LiquidationModel()) is the chosen candidate
    from liqmap.model import LiquidationModel

    chosen = out["candidates"][out["chosen"]]["model"]
    assert chosen["leverage"] == LiquidationModel().leverage
    assert chosen["side_model"] == LiquidationModel().side_model


def test_without_calibration_only_it_is_refused(capsys):
    from liqmap.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["backtest", "--levels", "--choose-default-map"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--calibration-only" in err and "Traceback" not in err

"""Check liqmap's Hyperliquid liquidation rule against the exchange's own liquidation prices.

Hyperliquid publishes every position's true liquidation price (``clearinghouseState``). The
shared data set ``raw/hyperliquid_whales_kittycapital/hl_whale_positions_BTC_ETH_...csv.gz``
holds 94 snapshots (2026-02-04 to 2026-02-22) of large traders' positions with
``liquidation_px``, ``leverage``, ``entry_px``, ``size``, ``position_value`` (at mark) and
``account_value``. The margin mode (cross or isolated) is not recorded, so:

**Isolated-looking criterion.** Back out, from the exchange's liquidation price, the
collateral the isolated rule would need, ``C_implied = MM(size * liq_px) - s * size *
(liq_px - entry_px)`` (the root condition of the rule solved for the collateral), and
compare it with the nominal isolated margin ``C0 = size * entry_px / leverage``. A row looks
isolated when ``|C_implied - C0| <= tol * C0`` (``tol`` = 5 % by default). The criterion
uses the exchange's price, so the error on that set measures how exactly the formula
reproduces isolated positions whose margin is known, not how well isolated ones can be
told apart.

For every row with a liquidation price the report also gives the error of the isolated rule
(margin = size * entry / leverage) and, for rows not isolated-looking, of the cross rule with
the account value as collateral (``margin_available = account_value - MM`` at mark; other
positions' maintenance margin is ignored because the file lacks them).

Examples
--------
>>> res = check_hyperliquid()                       # doctest: +SKIP
>>> res.summary()["isolated"]["median_abs_rel_err_pct"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap._exceptions import ConfigError, DataError
from liqmap.checks import hyperliquid_crossed as crossed
from liqmap.checks.hyperliquid_crossed import LEVERAGE_BUCKETS, bucket_shares
from liqmap.core.liqprice import liquidation_price
from liqmap.core.tiers import TierTable, get_tier_table

__all__ = [
    "DATA_FILE",
    "LEVERAGE_BUCKETS",
    "ErrorStats",
    "HyperliquidCheck",
    "check_hyperliquid",
    "default_data_dir",
    "error_stats",
    "implied_isolated_collateral",
    "leverage_share",
    "load_positions",
]

DATA_FILE = (
    "raw/hyperliquid_whales_kittycapital/"
    "hl_whale_positions_BTC_ETH_snapshots_2026-02-04_2026-02-22.csv.gz"
)
ISOLATED_TOL = 0.05
"""Relative tolerance on the implied isolated collateral for a row to look isolated."""

_COLUMNS = ("coin", "direction", "size", "entry_px", "leverage", "position_value",
            "account_value", "liquidation_px")


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Absolute relative error of estimated vs exchange liquidation prices, in percent."""

    n: int
    median_abs_rel_err_pct: float
    p90_abs_rel_err_pct: float
    share_within_0_5pct: float
    share_within_1pct: float


@dataclass(frozen=True, slots=True)
class HyperliquidCheck:
    """Result of :func:`check_hyperliquid` (read-only).

    Attributes
    ----------
    data_file : str
        CSV read.
    coin : str
        Coin checked (``BTC``).
    n_rows, n_with_liq, n_isolated : int
        Rows of the coin, rows with a liquidation price, rows that look isolated.
    isolated_tol : float
        Tolerance of the isolated-looking criterion.
    isolated, all_rows, cross_rest : ErrorStats
        Isolated rule on isolated-looking rows and on all rows with a liquidation price;
        cross rule (account value) on the rows not isolated-looking.
    isolated_value_share : float
        Share of position value (rows with a liquidation price) that looks isolated.
    leverage_share : dict
        Share of position value (all rows of the coin) per leverage bucket.
    criterion : str
        The isolated-looking criterion, in words.
    leverage_vs_presets : dict
        Measured shares and mean leverage next to every preset's
        (:func:`liqmap.checks.hyperliquid_crossed.leverage_vs_presets`).
    crossing : dict
        Disappearance of positions whose liquidation price was crossed between snapshots vs
        uncrossed ones (:func:`liqmap.checks.hyperliquid_crossed.crossing_check`).
    """

    data_file: str
    coin: str
    n_rows: int
    n_with_liq: int
    n_isolated: int
    isolated_tol: float
    isolated: ErrorStats
    all_rows: ErrorStats
    cross_rest: ErrorStats
    isolated_value_share: float
    leverage_share: dict[str, float] = field(default_factory=dict)
    criterion: str = ""
    leverage_vs_presets: dict = field(default_factory=dict)
    crossing: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Plain dict of the figures (JSON-safe: infinities become None)."""
        return _json_safe(asdict(self))


def default_data_dir() -> Path:
    """Shared data folder: ``$LIQMAP_SHARED_DATA``, else ``../shared/data`` from the repo root."""
    env = os.environ.get("LIQMAP_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def load_positions(data_dir: str | Path | None = None, coin: str = "BTC") -> pd.DataFrame:
    """Rows of ``coin`` from the whale-positions file, with ``s`` (+1 long, -1 short) added.

    Raises
    ------
    DataError
        If the file is missing or lacks a needed column.
    """
    path = Path(data_dir if data_dir is not None else default_data_dir()) / DATA_FILE
    if not path.is_file():
        raise DataError("Hyperliquid whale positions not found; pass --data-dir (the shared "
                        "data folder holding raw/) or set LIQMAP_SHARED_DATA", source=str(path))
    df = pd.read_csv(path)
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"missing columns {missing}; expected the kittycapital layout",
                        source=str(path))
    df = df[df["coin"] == coin].copy()
    df["s"] = np.where(df["direction"].str.lower() == "long", 1, -1)
    df["qty"] = df["size"].abs()
    df.attrs["path"] = str(path)
    return df


def implied_isolated_collateral(df: pd.DataFrame, table: TierTable) -> np.ndarray:
    """Collateral (USD, at entry) that puts the isolated rule's liquidation at ``liquidation_px``."""
    liq, qty = df["liquidation_px"].to_numpy(float), df["qty"].to_numpy(float)
    mm = np.array([table.maintenance_margin(n) for n in qty * liq])
    return mm - df["s"].to_numpy() * qty * (liq - df["entry_px"].to_numpy(float))


def error_stats(estimate: np.ndarray, truth: np.ndarray) -> ErrorStats:
    """Error statistics of ``estimate`` against ``truth`` (0/inf estimates count as misses)."""
    est, tru = np.asarray(estimate, float), np.asarray(truth, float)
    if est.size == 0:
        return ErrorStats(0, math.nan, math.nan, math.nan, math.nan)
    err = np.abs(est / tru - 1.0) * 100.0
    return ErrorStats(
        n=int(err.size),
        median_abs_rel_err_pct=float(np.quantile(err, 0.5, method="nearest")),
        p90_abs_rel_err_pct=float(np.quantile(err, 0.9, method="nearest")),
        share_within_0_5pct=float(np.mean(err <= 0.5)),
        share_within_1pct=float(np.mean(err <= 1.0)),
    )


def leverage_share(df: pd.DataFrame) -> dict[str, float]:
    """Share of position value per leverage bucket (see :data:`LEVERAGE_BUCKETS`)."""
    lev, val = df["leverage"].to_numpy(float), df["position_value"].abs().to_numpy(float)
    ok = np.isfinite(lev) & np.isfinite(val)
    return bucket_shares(lev[ok], val[ok])


def check_hyperliquid(
    data_dir: str | Path | None = None,
    *,
    coin: str = "BTC",
    isolated_tol: float = ISOLATED_TOL,
    crossing: bool = True,
) -> HyperliquidCheck:
    """Score liqmap's Hyperliquid rule against the exchange's liquidation prices.

    Parameters
    ----------
    data_dir : path, optional
        Shared data folder (the one holding ``raw/``); default :func:`default_data_dir`.
    coin : str, default "BTC"
    isolated_tol : float, default 0.05
        Tolerance of the isolated-looking criterion (see the module docstring).
    crossing : bool, default True
        Also run the crossed-positions check (reads window A's hourly prices when present).

    Returns
    -------
    HyperliquidCheck
    """
    if not 0 < isolated_tol < 1:
        raise ConfigError(f"isolated_tol is a fraction in (0, 1), got {isolated_tol!r}")
    df = load_positions(data_dir, coin)
    table = get_tier_table("hyperliquid")
    liq = _usable(df[df["liquidation_px"].notna()])
    iso_est = _isolated_estimates(liq, table)
    c0 = (liq["qty"] * liq["entry_px"] / liq["leverage"]).to_numpy()
    looks_iso = np.abs(implied_isolated_collateral(liq, table) - c0) <= isolated_tol * c0
    truth = liq["liquidation_px"].to_numpy(float)
    rest = liq[~looks_iso]
    values = liq["position_value"].abs().to_numpy(float)
    return HyperliquidCheck(
        data_file=df.attrs["path"],
        coin=coin,
        n_rows=int(len(df)),
        n_with_liq=int(len(liq)),
        n_isolated=int(looks_iso.sum()),
        isolated_tol=isolated_tol,
        isolated=error_stats(iso_est[looks_iso], truth[looks_iso]),
        all_rows=error_stats(iso_est, truth),
        cross_rest=error_stats(_cross_estimates(rest, table), truth[~looks_iso]),
        isolated_value_share=float(values[looks_iso].sum() / values.sum()) if len(liq) else math.nan,
        leverage_share=leverage_share(df),
        criterion=(
            f"|implied isolated collateral - size*entry_px/leverage| <= {isolated_tol:g} x "
            "size*entry_px/leverage, the implied collateral being the one that puts the "
            "isolated rule's liquidation price at the exchange's liquidation_px"
        ),
        leverage_vs_presets=crossed.leverage_vs_presets(df),
        crossing=crossed.crossing_check(df, crossed.load_price_bars(
            data_dir if data_dir is not None else default_data_dir())) if crossing else {},
    )


def _usable(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose numbers the rule can take (positive size, prices, leverage, account value)."""
    cols = ["qty", "entry_px", "leverage", "position_value", "liquidation_px", "account_value"]
    ok = np.all([np.isfinite(df[c].to_numpy(float)) & (df[c].to_numpy(float) > 0) for c in cols],
                axis=0)
    return df[ok]


def _isolated_estimates(df: pd.DataFrame, table: TierTable) -> np.ndarray:
    rows = zip(df["s"], df["entry_px"], df["qty"], df["leverage"])
    return np.array([
        liquidation_price("hyperliquid", "long" if s > 0 else "short", ep, q, q * ep / lev,
                          table=table)
        for s, ep, q, lev in rows
    ], dtype=float)


def _cross_estimates(df: pd.DataFrame, table: TierTable) -> np.ndarray:
    mark = (df["position_value"].abs() / df["qty"]).to_numpy(float)
    rows = zip(df["s"], df["entry_px"], df["qty"], df["account_value"], mark)
    return np.array([
        liquidation_price("hyperliquid", "long" if s > 0 else "short", ep, q, av,
                          mark_price=mk, table=table)
        for s, ep, q, av, mk in rows
    ], dtype=float)


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj

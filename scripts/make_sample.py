"""Build the bundled samples in ``src/liqmap/data/`` from ``../shared/data/raw``.

Run from the repository root::

    .venv/bin/python scripts/make_sample.py [--raw ../shared/data/raw]

Byte-for-byte reproducible: fixed number formats, gzip with ``mtime=0`` and no file name.
Both samples are validated with liqmap's own loader checks before they are written.
See ``src/liqmap/data/README.md`` for what the transformation does and why.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap.io._align import OI_STAMP_JITTER_MS, asof_at_close
from liqmap.io.validate import bars_from_frame

BAR_MS = 300_000
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "liqmap" / "data"
DEC_START_MS = 1_764_547_200_000  # 2025-12-01T00:00Z
DEC_END_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
#: A trailing run of identical OI values longer than this (bars) is forward-fill, not data.
MAX_FLAT_OI_BARS = 12

DEC_KLINES = "binance_um_klines_won9892000/BTCUSDT_perp_5m_2025-07-04_2025-12-31.csv.gz"
DEC_METRICS = "binance_um_hlreaper/BTCUSDT_metrics_oi_5m_2025-12-01_2026-06-11.csv.gz"
DEC_FUNDING = "binance_um_hlreaper/BTCUSDT_funding_hourly_2025-12-01_2026-06.csv"
JUN_FILE = ("coinglass_ismethanhtung/"
            "binance_fapi_BTCUSDT_5m_ohlc_oi_funding_cvd_2026-05-25_2026-06-22.csv.gz")

UNITS = {
    "ts_ms": "bar open time, Unix ms (UTC)",
    "open": "USDT", "high": "USDT", "low": "USDT", "close": "USDT",
    "volume": "BTC traded in the bar",
    "open_interest": "BTC, at bar close",
    "funding_rate": "last settled funding rate at bar close, per 8 h, fraction",
    "taker_delta": "taker buy minus taker sell volume in the bar, BTC",
}
FORMATS = {"open_interest": "{:.3f}", "funding_rate": "{:.8f}", "taker_delta": "{:.3f}"}


def build_december(raw: Path) -> pd.DataFrame:
    """Klines + metrics OI at bar close + funding (author's rate x 8) for 2025-12."""
    k = pd.read_csv(raw / DEC_KLINES)
    k = k[(k["timestamp"] >= DEC_START_MS) & (k["timestamp"] < DEC_END_MS)].reset_index(drop=True)
    m = pd.read_csv(raw / DEC_METRICS)
    f = pd.read_csv(raw / DEC_FUNDING)
    close_ms = k["timestamp"].to_numpy() + BAR_MS
    oi = asof_at_close(close_ms, m["t"].to_numpy(), m["oi"].to_numpy(),
                       jitter_ms=OI_STAMP_JITTER_MS, max_age_ms=2 * BAR_MS)
    rate_8h = np.round(f["rate"].to_numpy() * 8.0, 8)
    funding = asof_at_close(close_ms, f["ts"].to_numpy(), rate_8h)
    return pd.DataFrame({
        "ts_ms": k["timestamp"], "open": k["open"], "high": k["high"], "low": k["low"],
        "close": k["close"], "volume": k["volume"], "open_interest": oi,
        "funding_rate": funding,
    })


def _taker_delta(cvd: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Per-bar delta from a running sum that restarts per batch; 0 on each batch's first bar."""
    delta = np.diff(cvd, prepend=np.nan)
    new_batch = np.r_[True, batch[1:] != batch[:-1]]
    delta[new_batch] = 0.0
    return np.round(delta, 3)


def _real_oi_rows(oi: np.ndarray) -> np.ndarray:
    """False on rows that repeat the previous OI inside a run longer than MAX_FLAT_OI_BARS."""
    copy = np.r_[False, oi[1:] == oi[:-1]]
    real = np.ones(len(oi), dtype=bool)
    i = 0
    while i < len(oi):
        k = i
        while k < len(oi) and copy[k]:
            k += 1
        if k - i > MAX_FLAT_OI_BARS:
            real[i:k] = False
        i = max(k, i + 1)
    return real


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """``(start, stop)`` of the longest stretch of True values."""
    best, start = (0, 0), None
    for i, ok in enumerate(np.r_[mask, False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            best = max(best, (start, i), key=lambda r: r[1] - r[0])
            start = None
    return best


def build_june(raw: Path) -> pd.DataFrame:
    """The Binance 5m file: OI/funding of row t+5m (= at bar t's close), OI USD -> BTC."""
    j = pd.read_csv(raw / JUN_FILE)
    ts = j["timestamp"].to_numpy()
    if not np.all(np.diff(ts) == BAR_MS):
        raise SystemExit(f"{JUN_FILE}: expected a gapless 5m series")
    delta = _taker_delta(j["cvd_close"].to_numpy(), j["fetch_batch_commit"].to_numpy())
    # bar i (row i) takes OI and funding from row i + 1; keep the longest stretch of
    # bars whose row i + 1 holds a real (not forward-filled) OI value.
    a, b = _longest_run(_real_oi_rows(j["oi_close"].to_numpy())[1:])
    close = j["price_close"].to_numpy()[a:b]
    return pd.DataFrame({
        "ts_ms": ts[a:b], "open": j["price_open"].to_numpy()[a:b],
        "high": j["price_high"].to_numpy()[a:b], "low": j["price_low"].to_numpy()[a:b],
        "close": close,
        "open_interest": np.round(j["oi_close"].to_numpy()[a + 1: b + 1] / close, 3),
        "funding_rate": j["funding_close"].to_numpy()[a + 1: b + 1],
        "taker_delta": delta[a:b],
    })


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    text = frame.copy()
    for col, fmt in FORMATS.items():
        if col in text:
            text[col] = [fmt.format(v) for v in text[col]]
    return text.to_csv(index=False, lineterminator="\n").encode()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def write_sample(frame: pd.DataFrame, name: str, origin: str, transform: str) -> dict:
    """Validate with liqmap's loader checks, then write ``<name>.csv.gz`` and ``.json``."""
    bars_from_frame(frame, source=name, gaps="error")
    blob = _gzip(_csv_bytes(frame))
    (OUT / f"{name}.csv.gz").write_bytes(blob)
    ts = frame["ts_ms"].to_numpy()
    info = {
        "name": name, "venue": "binance", "symbol": "BTC/USDT:USDT", "bar_ms": BAR_MS,
        "rows": int(len(frame)), "first_ts_ms": int(ts[0]), "last_ts_ms": int(ts[-1]),
        "first_bar_utc": pd.Timestamp(int(ts[0]), unit="ms", tz="UTC").isoformat(),
        "last_bar_utc": pd.Timestamp(int(ts[-1]), unit="ms", tz="UTC").isoformat(),
        "columns": {c: UNITS[c] for c in frame.columns},
        "origin": origin, "transformation": transform,
        "sha256_csv_gz": hashlib.sha256(blob).hexdigest(), "bytes_csv_gz": len(blob),
    }
    (OUT / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


DEC_ORIGIN = ("Binance USD-M BTCUSDT perpetual: fapi/v1/klines 5m (raw/binance_um_klines_won9892000), "
              "data.binance.vision metrics sum_open_interest and monthly fundingRate "
              "(raw/binance_um_hlreaper)")
DEC_TRANSFORM = ("klines 2025-12-01..2025-12-31 unchanged; open_interest = metrics "
                 "sum_open_interest (BTC) stamped at the bar close (ts_ms + 5 min); "
                 "funding_rate = last settlement with calc_time <= bar close, converted back "
                 "from the source's hourly convention (rate / 8) to Binance's 8 h rate "
                 "(x 8, rounded to 8 decimals)")
JUN_ORIGIN = ("Binance USD-M BTCUSDT perpetual: fapi/v1/klines, futures/data/openInterestHist "
              "(USD), futures/data/takerlongshortRatio, fapi/v1/fundingRate, merged by a "
              "third party (raw/coinglass_ismethanhtung/binance_fapi_BTCUSDT_5m_*)")
JUN_TRANSFORM = ("the source row t holds OI and funding as of bar t's open, so each bar "
                 "takes them from row t + 5 min (its close); open_interest = oi_close (USD) "
                 "/ close, rounded to 0.001 BTC; taker_delta = difference of the cvd "
                 "running sum within one fetch batch (0 on the first bar of each batch); "
                 "only the longest stretch whose OI is real is kept: the source "
                 "forward-filled one constant OI from 2026-06-14T15:00 to 06-20T10:55, so "
                 "the sample ends at the bar opening 2026-06-14T14:55; no volume column")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data" / "raw")
    raw = parser.parse_args().raw
    OUT.mkdir(parents=True, exist_ok=True)
    for frame, name, origin, transform in (
        (build_december(raw), "btcusdt-5m-2025-12", DEC_ORIGIN, DEC_TRANSFORM),
        (build_june(raw), "btcusdt-5m-2026-06", JUN_ORIGIN, JUN_TRANSFORM),
    ):
        info = write_sample(frame, name, origin, transform)
        print(f"{name}: {info['rows']} bars {info['first_bar_utc']} .. {info['last_bar_utc']}, "
              f"{info['bytes_csv_gz']} bytes")


if __name__ == "__main__":
    main()

"""Binance archive download against a loopback archive (no network)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqmap import InputError, RetryLaterError
from liqmap.store._base import Store
from liqmap.venues import HttpFetcher, RetryPolicy, download
from liqmap.venues.binance import (
    ArchiveFile,
    BinanceArchive,
    archive_files,
    archive_symbol,
    load_binance_bars,
    load_liquidation_snapshot,
    parse_checksum,
)

FIX = Path(__file__).resolve().parents[2] / "fixtures"
UM = "data/futures/um"
DATASETS = "klines-5m,metrics,fundingRate"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _run(site, out, *, start="2025-12-01", end="2025-12-03", datasets=DATASETS, sleeps=None,
         **kw):
    """download() with a fetch layer that records its sleeps (no rate-limit gap)."""
    sleeps = sleeps if sleeps is not None else Sleeps()
    with HttpFetcher(retry=RetryPolicy(attempts=3, base_s=0.5, jitter=0.0), sleep=sleeps,
                     min_interval_s=0.0) as http:
        return download("binance", "BTC/USDT:USDT", start, end, datasets, out,
                        base_url=site.url, http=http, **kw)


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".part")]


def test_urls_follow_the_archive_layout():
    files = archive_files("BTC/USDT:USDT", date(2025, 11, 30), date(2025, 12, 1),
                          ["klines-1m", "metrics", "fundingRate", "liquidationSnapshot"])
    rel = [f.relpath for f in files]
    assert rel == [
        f"{UM}/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-11-30.zip",
        f"{UM}/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-12-01.zip",
        f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-11-30.zip",
        f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip",
        f"{UM}/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2025-11.zip",
        f"{UM}/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2025-12.zip",
        f"{UM}/daily/liquidationSnapshot/BTCUSDT/BTCUSDT-liquidationSnapshot-2025-11-30.zip",
        f"{UM}/daily/liquidationSnapshot/BTCUSDT/BTCUSDT-liquidationSnapshot-2025-12-01.zip",
    ]
    market, ident = archive_symbol("BTC/USD:BTC")
    cm = ArchiveFile(market, "klines-5m", ident, "2025-12-01")
    assert cm.relpath == "data/futures/cm/daily/klines/BTCUSD_PERP/5m/BTCUSD_PERP-5m-2025-12-01.zip"


@pytest.mark.parametrize("bad", ["BTC/USDT", "klines??", ""])
def test_bad_symbol_or_dataset_is_an_input_error(bad):
    with pytest.raises(InputError):
        if bad == "klines??":
            archive_files("BTC/USDT:USDT", date(2025, 12, 1), date(2025, 12, 1), [bad])
        else:
            archive_symbol(bad)


def test_checksum_line_parsing():
    sha = "a" * 64
    assert parse_checksum(f"{sha}  X.zip\n", "X.zip", "s") == sha
    with pytest.raises(InputError, match="names"):
        parse_checksum(f"{sha}  Y.zip", "X.zip", "s")
    with pytest.raises(InputError, match="checksum line"):
        parse_checksum("<html>not found</html>", "X.zip", "s")


def test_download_verifies_loads_and_resumes(archive_site, tmp_path):
    out = tmp_path / "out"
    first = _run(archive_site, out)
    assert first.ok, first.failed
    assert len(first.fetched) == 5 and len(first.missing) == 2  # 2025-12-03 not published
    assert all("2025-12-03" in m for m in first.missing)
    assert first.bytes == sum((archive_site.root / p).stat().st_size for p in first.fetched)
    # kept zips are byte-identical to the archive's
    for rel in first.fetched:
        assert (out / rel).read_bytes() == (archive_site.root / rel).read_bytes()
    # extracted CSVs load with the existing loaders into Bars equal to the fixtures'
    k = [out / f"{UM}/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-0{d}.csv" for d in (1, 2)]
    m = [out / f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-0{d}.csv" for d in (1, 2)]
    f = out / f"{UM}/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2025-12.csv"
    got = load_binance_bars(k, m, f, gaps="ignore")
    want = load_binance_bars([FIX / "BTCUSDT-5m-2025-12-01.csv", FIX / "BTCUSDT-5m-2025-12-02.csv"],
                             [FIX / "BTCUSDT-metrics-2025-12-01.csv",
                              FIX / "BTCUSDT-metrics-2025-12-02.csv"],
                             FIX / "BTCUSDT-fundingRate-2025-12.csv", gaps="ignore")
    assert len(got) == len(want) == 48
    for col in ("ts_ms", "close", "open_interest", "funding_rate"):
        np.testing.assert_array_equal(getattr(got, col), getattr(want, col))
    # the second run asks the network only for what is still missing
    n_before = len(archive_site.log)
    second = _run(archive_site, out)
    again = archive_site.paths()[n_before:]
    assert second.fetched == () and sorted(second.skipped) == sorted(first.fetched)
    assert again and all("2025-12-03" in p for p in again)


def test_tampered_file_is_fetched_again(archive_site, tmp_path):
    out = tmp_path / "out"
    _run(archive_site, out, end="2025-12-01", datasets="metrics")
    kept = out / f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip"
    kept.write_bytes(kept.read_bytes()[:-5] + b"xxxxx")
    rep = _run(archive_site, out, end="2025-12-01", datasets="metrics")
    assert rep.fetched == (kept.relative_to(out).as_posix(),)
    assert kept.read_bytes() == (archive_site.root / rep.fetched[0]).read_bytes()


def test_checksum_mismatch_is_retried_once_then_reported(archive_site, tmp_path):
    rel = f"{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-05.zip"
    archive_site.publish(rel, (FIX / "BTCUSDT-metrics-2025-12-01.csv").read_bytes(),
             sha=hashlib.sha256(b"something else").hexdigest())
    out = tmp_path / "out"
    rep = _run(archive_site, out, start="2025-12-05", end="2025-12-05", datasets="metrics")
    assert [f for f, _ in rep.failed] == [rel]
    assert "BTCUSDT-metrics-2025-12-05.zip" in rep.failed[0][1]
    assert "differs from the published" in rep.failed[0][1]
    assert archive_site.paths().count("/" + rel) == 2  # first try + one retry
    assert not (out / rel).exists() and not (out / rel).with_suffix(".csv").exists()
    assert _no_temp_files(out)


def test_corrupt_zip_is_rejected_even_with_a_matching_checksum(archive_site, tmp_path):
    rel = f"{UM}/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-06.zip"
    good = archive_site.make_zip("BTCUSDT-5m-2025-12-06.csv",
                                (FIX / "BTCUSDT-5m-2025-12-01.csv").read_bytes())
    broken = good[:30] + bytes(b ^ 0xFF for b in good[30:60]) + good[60:]
    archive_site.publish(rel, b"", zip_bytes=broken)  # CHECKSUM matches the broken bytes
    out = tmp_path / "out"
    rep = _run(archive_site, out, start="2025-12-06", end="2025-12-06", datasets="klines-5m")
    assert [f for f, _ in rep.failed] == [rel]
    assert "zip" in rep.failed[0][1] or "CRC" in rep.failed[0][1]
    assert not (out / rel).exists() and _no_temp_files(out)


def test_server_errors_are_retried_with_backoff(archive_site, tmp_path):
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip"
    archive_site.fail[rel] = [500, 503]
    sleeps = Sleeps()
    rep = _run(archive_site, tmp_path / "out", end="2025-12-01", datasets="metrics",
               sleeps=sleeps)
    assert rep.ok and len(rep.fetched) == 1
    assert [st for _, p, st in archive_site.log if p == rel] == [500, 503, 200]
    assert sleeps == [0.5, 1.0]  # exponential backoff, jitter off


def test_retry_after_is_honoured(archive_site, tmp_path):
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip"
    archive_site.fail[rel] = [429]
    archive_site.headers[rel] = {"Retry-After": "7"}
    sleeps = Sleeps()
    rep = _run(archive_site, tmp_path / "out", end="2025-12-01", datasets="metrics",
               sleeps=sleeps)
    assert rep.ok and sleeps == [7.0]


def test_bad_request_is_not_retried(archive_site, tmp_path):
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip.CHECKSUM"
    archive_site.fail[rel] = [400, 400, 400]
    sleeps = Sleeps()
    rep = _run(archive_site, tmp_path / "out", end="2025-12-01", datasets="metrics",
               sleeps=sleeps)
    assert len(rep.failed) == 1 and "HTTP 400" in rep.failed[0][1]
    assert archive_site.url + rel in rep.failed[0][1]
    assert archive_site.paths().count(rel) == 1 and sleeps == []


def test_exhausted_retries_raise_retry_later(archive_site):
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip"
    archive_site.fail[rel] = [503] * 10
    sleeps = Sleeps()
    with (HttpFetcher(retry=RetryPolicy(attempts=4, jitter=0.0), sleep=sleeps) as http,
          pytest.raises(RetryLaterError, match="4 times")):
        http.get(archive_site.url + rel)
    assert archive_site.paths().count(rel) == 4 and len(sleeps) == 3


def test_connection_refused_is_retried_then_retry_later(tmp_path):
    sleeps = Sleeps()
    with HttpFetcher(retry=RetryPolicy(attempts=2, jitter=0.0), sleep=sleeps,
                     timeout_s=2) as http, pytest.raises(RetryLaterError):
        http.get("http://127.0.0.1:9/nothing.zip")  # port 9 (discard): nothing listens
    assert sleeps == [0.5]


def test_nothing_partial_when_the_fetch_fails(archive_site, tmp_path):
    out = tmp_path / "out"
    rel = f"/{UM}/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip"
    archive_site.fail[rel] = [500] * 5
    with HttpFetcher(retry=RetryPolicy(attempts=2, jitter=0.0), sleep=Sleeps()) as http:
        arch = BinanceArchive(out, base_url=archive_site.url, fetcher=http)
        with pytest.raises(RetryLaterError):
            arch.fetch(ArchiveFile("um", "metrics", "BTCUSDT", "2025-12-01"))
    assert not [p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"]


def test_liquidation_snapshot_day_goes_to_the_store(archive_site, tmp_path, recording_store):
    assert isinstance(recording_store, Store)
    rep = _run(archive_site, tmp_path / "out", start="2025-12-27", end="2025-12-27",
               datasets="liquidationSnapshot", store=recording_store)
    assert rep.ok and len(rep.fetched) == 1
    want = load_liquidation_snapshot(FIX / "BTCUSDT-liquidationSnapshot-2025-12-27.csv")
    assert len(recording_store.realized_calls) == 1
    got = recording_store.realized_calls[0]
    np.testing.assert_array_equal(got.ts_ms, want.ts_ms)
    np.testing.assert_array_equal(got.notional_usd, want.notional_usd)
    assert rep.stored_realized == len(want) > 0


def test_each_day_is_one_store_batch(archive_site, tmp_path, recording_store):
    rep = _run(archive_site, tmp_path / "out", store=recording_store)
    assert [len(b) for b in recording_store.bars_calls] == [24, 24]
    days = [pd.Timestamp(int(b.ts_ms[0]), unit="ms").date().isoformat()
            for b in recording_store.bars_calls]
    assert days == ["2025-12-01", "2025-12-02"]
    assert rep.stored_bars == 48
    assert all(b.funding_rate is not None for b in recording_store.bars_calls)

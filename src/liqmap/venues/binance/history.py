"""Binance history: the public data archive (https://data.binance.vision), and ccxt.

``liqmap download --venue binance`` reads the archive (:func:`download_archive`);
``--venue binanceusdm`` goes through ccxt like the other venues (:data:`CCXT`).

Layout (USDⓈ-M under ``futures/um``, COIN-M under ``futures/cm``)::

    data/futures/um/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-01.zip
    data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2025-12-01.zip
    data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2025-12.zip
    data/futures/um/daily/liquidationSnapshot/BTCUSDT/BTCUSDT-liquidationSnapshot-2025-12-01.zip
    data/futures/cm/daily/klines/BTCUSD_PERP/5m/BTCUSD_PERP-5m-2025-12-01.zip

Each zip holds one CSV and has a sibling ``<zip>.CHECKSUM`` with ``"<sha256>  <zip name>"``.
A file is kept only when its sha256 equals the published one and the zip opens
(``zipfile.testzip``); a mismatch or a corrupt zip is fetched once more, then reported as
a :class:`liqmap.DataError` naming the file. Nothing partial is written (see
:mod:`liqmap.venues._shared.files`). The local folder mirrors the archive's paths, with the
CSV extracted next to its zip so that :func:`~liqmap.venues.binance.files.load_binance_bars`
and :func:`~liqmap.venues.binance.files.load_liquidation_snapshot` read it directly.
``liquidationSnapshot`` files stopped being published in 2023; a day that is not there is
reported as missing (HTTP 404), not as an error.

With a store, each archive day goes in with one ``write_bars`` and one ``write_realized``
call (:func:`store_archive_days`). A day's bars need its klines and metrics CSVs (open
interest is required by ``Bars``); funding is attached when fundingRate files are there.
A day whose files are missing is left out (and counted nowhere: the archive report already
lists the missing files); a day whose files do not load is reported as failed, and the
other days still go in.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from os import PathLike
from pathlib import Path
from typing import Any

from liqmap._exceptions import ConfigError, DataError, LiqmapError
from liqmap.venues._shared.files import Manifest, atomic_path, atomic_write_bytes
from liqmap.venues._shared.http import HttpFetcher, RetryPolicy
from liqmap.venues._shared.spec import VenueConfig
from liqmap.venues.binance.files import load_binance_bars, load_liquidation_snapshot

__all__ = [
    "ARCHIVE_URL",
    "CCXT",
    "COINM_CONTRACT_USD",
    "ArchiveFile",
    "ArchiveResult",
    "BinanceArchive",
    "archive_ccxt_symbol",
    "archive_files",
    "archive_names",
    "archive_symbol",
    "download_archive",
    "parse_checksum",
    "store_archive_days",
]

#: ccxt exchange ids served by :class:`liqmap.venues.CcxtHistory` (``download --venue
#: binanceusdm``): USDⓈ-M perpetuals, with Binance's page sizes.
CCXT = (VenueConfig("binanceusdm", ("linear",), 1500, 500, 1000),)
#: USD value of one COIN-M contract as the archive loader counts it: 100 for BTCUSD_PERP,
#: 10 for the others.
COINM_CONTRACT_USD = {"BTC": 100.0}

ARCHIVE_URL = "https://data.binance.vision"
#: dataset name -> (archive folder, period: "daily" | "monthly")
_KINDS = {"metrics": ("metrics", "daily"), "fundingRate": ("fundingRate", "monthly"),
          "liquidationSnapshot": ("liquidationSnapshot", "daily")}
_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
_SHA_LINE = re.compile(r"^\s*([0-9a-fA-F]{64})\s+\*?(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One file of the archive.

    Attributes
    ----------
    market : {"um", "cm"}
        USDⓈ-M or COIN-M futures.
    dataset : str
        ``klines-<interval>``, ``metrics``, ``fundingRate`` or ``liquidationSnapshot``.
    symbol : str
        Binance id (``BTCUSDT``, ``BTCUSD_PERP``).
    period : str
        ``YYYY-MM-DD`` for daily files, ``YYYY-MM`` for monthly ones.

    Examples
    --------
    >>> ArchiveFile("um", "klines-5m", "BTCUSDT", "2025-12-01").relpath
    'data/futures/um/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2025-12-01.zip'
    """

    market: str
    dataset: str
    symbol: str
    period: str

    @property
    def name(self) -> str:
        """The zip's file name."""
        kind = self.dataset.split("-", 1)[1] if self.is_klines else self.dataset
        return f"{self.symbol}-{kind}-{self.period}.zip"

    @property
    def is_klines(self) -> bool:
        """True for ``klines-<interval>`` files."""
        return self.dataset.startswith("klines-")

    @property
    def relpath(self) -> str:
        """Path under the archive root (and under the local output folder)."""
        cadence = "monthly" if len(self.period) == 7 else "daily"
        if self.is_klines:
            folder = f"klines/{self.symbol}/{self.dataset.split('-', 1)[1]}"
        else:
            folder = f"{_KINDS[self.dataset][0]}/{self.symbol}"
        return f"data/futures/{self.market}/{cadence}/{folder}/{self.name}"


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What happened to one file: ``status`` is fetched, skipped or missing."""

    file: ArchiveFile
    status: str
    csv_path: Path | None
    bytes: int = 0


def archive_symbol(symbol: str) -> tuple[str, str]:
    """(market, Binance id) of a ccxt symbol or a Binance id.

    Examples
    --------
    >>> archive_symbol("BTC/USDT:USDT"), archive_symbol("BTC/USD:BTC")
    (('um', 'BTCUSDT'), ('cm', 'BTCUSD_PERP'))
    """
    if "/" not in symbol:
        ident = symbol.strip().upper()
        if not re.fullmatch(r"[A-Z0-9]+(_PERP|_\d{6})?", ident):
            raise ConfigError(f"symbol {symbol!r} is neither a ccxt symbol (BTC/USDT:USDT) "
                              "nor a Binance id (BTCUSDT, BTCUSD_PERP)")
        return ("cm" if "_" in ident else "um"), ident
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if not settle:
        raise ConfigError(f"symbol {symbol!r} is a spot symbol; the futures archive needs a "
                          "perpetual such as BTC/USDT:USDT (USDⓈ-M) or BTC/USD:BTC (COIN-M)")
    if settle == base:
        return "cm", f"{base}{quote}_PERP"
    return "um", f"{base}{quote}"


def _check_dataset(dataset: str) -> None:
    if dataset in _KINDS:
        return
    if dataset.startswith("klines-") and dataset.split("-", 1)[1] in _INTERVALS:
        return
    raise ConfigError(f"unknown archive dataset {dataset!r}; use klines-<interval> "
                      f"(interval one of {', '.join(_INTERVALS)}), {', '.join(_KINDS)}")


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _months(start: date, end: date) -> list[str]:
    months = sorted({d[:7] for d in _days(start, end)})
    return months


def archive_files(symbol: str, start: date, end: date, datasets: list[str]) -> list[ArchiveFile]:
    """The archive files covering days ``start..end`` (both included) for ``datasets``.

    Examples
    --------
    >>> [f.name for f in archive_files("BTC/USDT:USDT", date(2025, 12, 1), date(2025, 12, 2),
    ...                                ["fundingRate"])]
    ['BTCUSDT-fundingRate-2025-12.zip']
    """
    if end < start:
        raise ConfigError(f"end {end} is before start {start}; swap them")
    market, ident = archive_symbol(symbol)
    files = []
    for ds in datasets:
        _check_dataset(ds)
        monthly = not ds.startswith("klines-") and _KINDS[ds][1] == "monthly"
        for period in (_months(start, end) if monthly else _days(start, end)):
            files.append(ArchiveFile(market, ds, ident, period))
    return files


def parse_checksum(text: str, name: str, source: str) -> str:
    """The sha256 in a ``.CHECKSUM`` body (``"<sha256>  <name>"``), checked against ``name``."""
    match = _SHA_LINE.match(text.strip().splitlines()[0] if text.strip() else "")
    if not match:
        raise DataError("is not a '<sha256>  <file name>' checksum line; the archive or "
                        "mirror served something else, check --base-url", source=source)
    if Path(match.group(2)).name != name:
        raise DataError(f"names {match.group(2)!r}, not {name!r}; the mirror is mixing files, "
                        "check --base-url", source=source)
    return match.group(1).lower()


def _zip_problem(body: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            bad = zf.testzip()
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return f"not a readable zip ({exc})"
    if bad is not None:
        return f"member {bad!r} fails its CRC check"
    if len(names) != 1 or not names[0].lower().endswith(".csv"):
        return f"holds {names}, not exactly one CSV"
    return None


class BinanceArchive:
    """Download archive files into ``out_dir`` (mirroring the archive's paths), resumably.

    Parameters
    ----------
    out_dir : path
        Local root; ``manifest.json`` there records what was verified.
    base_url : str
        Archive root (default https://data.binance.vision; tests and mirrors pass theirs).
    fetcher : HttpFetcher, optional
        Shared fetch layer (retries, rate limit).

    Examples
    --------
    >>> arch = BinanceArchive("data")  # doctest: +SKIP
    >>> arch.fetch(ArchiveFile("um", "metrics", "BTCUSDT", "2025-12-01")).status  # doctest: +SKIP
    'fetched'
    """

    def __init__(self, out_dir: str | PathLike, *, base_url: str = ARCHIVE_URL,
                 fetcher: HttpFetcher | None = None, manifest: Manifest | None = None):
        self.out_dir = Path(out_dir)
        self.base_url = base_url.rstrip("/")
        self.fetcher = fetcher or HttpFetcher(min_interval_s=0.05)
        self.manifest = manifest or Manifest(self.out_dir)

    def local_zip(self, f: ArchiveFile) -> Path:
        """Where the verified zip of ``f`` is kept."""
        return self.out_dir / f.relpath

    def local_csv(self, f: ArchiveFile) -> Path:
        """Where the CSV extracted from ``f`` is kept."""
        return self.local_zip(f).with_suffix(".csv")

    def fetch(self, f: ArchiveFile) -> ArchiveResult:
        """Fetch, verify and keep ``f``; skip it when already verified on disk."""
        zpath, cpath = self.local_zip(f), self.local_csv(f)
        if cpath.is_file() and self.manifest.is_complete(zpath):
            return ArchiveResult(f, "skipped", cpath)
        url = f"{self.base_url}/{f.relpath}"
        sums = self.fetcher.get(url + ".CHECKSUM", allow_missing=True)
        if sums.body is None:  # not published (404)
            return ArchiveResult(f, "missing", None)
        expected = parse_checksum(sums.body.decode("utf-8", "replace"), f.name, url + ".CHECKSUM")
        body = self._verified_body(url, f.name, expected)
        if body is None:
            return ArchiveResult(f, "missing", None)
        atomic_write_bytes(zpath, body)
        self._extract(body, cpath)
        self.manifest.record(zpath, expected, {"csv": cpath.name})
        return ArchiveResult(f, "fetched", cpath, len(body))

    def _verified_body(self, url: str, name: str, expected: str) -> bytes | None:
        problem = ""
        for _ in range(2):  # the first try and one retry
            res = self.fetcher.get(url, allow_missing=True)
            if res.body is None:  # not published (404)
                return None
            got = hashlib.sha256(res.body).hexdigest()
            if got != expected:
                problem = f"sha256 {got} differs from the published {expected}"
                continue
            problem = _zip_problem(res.body) or ""
            if not problem:
                return res.body
        raise DataError(f"{problem} (fetched twice, nothing kept); the archive file is "
                        "damaged or a proxy altered it: try later or another mirror",
                        source=name)

    @staticmethod
    def _extract(body: bytes, cpath: Path) -> None:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            member = next(n for n in zf.namelist() if not n.endswith("/"))
            with atomic_path(cpath) as tmp, zf.open(member) as src, open(tmp, "wb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)


# ----------------------------------------------------------------------------- download
#: ``download``'s dataset names (archive and ccxt spellings) -> archive dataset
_ARCHIVE_NAMES = {"metrics": "metrics", "open_interest": "metrics",
                  "fundingRate": "fundingRate", "funding": "fundingRate",
                  "liquidationSnapshot": "liquidationSnapshot",
                  "liquidations": "liquidationSnapshot"}


def archive_names(names: list[str]) -> list[str]:
    """``download``'s dataset names as archive datasets (``ohlcv-5m`` -> ``klines-5m``).

    Examples
    --------
    >>> archive_names(["ohlcv-5m", "open_interest", "funding"])
    ['klines-5m', 'metrics', 'fundingRate']
    """
    out = []
    for n in names:
        if n.startswith("ohlcv-"):
            n = "klines-" + n.split("-", 1)[1]
        if n in ("leverage_tiers", "leverageTiers"):
            raise ConfigError("the Binance archive has no leverage tiers; use --venue "
                              "binanceusdm for ccxt's fetch_leverage_tiers (needs no archive)")
        out.append(_ARCHIVE_NAMES.get(n, n))
    return out


def download_archive(symbol: str, first: date, last: date, names: list[str], out: Path,
                     tally, *, base_url: str | None = None,
                     progress: Callable[[int, int, str], None] | None = None, store=None,
                     http: HttpFetcher | None = None, retry: RetryPolicy = RetryPolicy(),
                     sleep: Callable[[float], None] | None = None) -> None:
    """Fetch the archive files of days ``first..last`` into ``out``; tally what happened.

    ``tally`` has ``fetched``, ``skipped``, ``missing``, ``failed`` lists and ``bytes``,
    ``stored_bars``, ``stored_realized`` counts (:func:`liqmap.venues.download` reports
    them); ``store`` receives each complete day (:func:`store_archive_days`).
    """
    files = archive_files(symbol, first, last, archive_names(names))
    own = http is None
    kw: dict[str, Any] = {"retry": retry, "min_interval_s": 0.05,
                          **({"sleep": sleep} if sleep is not None else {})}
    fetcher = http or HttpFetcher(**kw)
    archive = BinanceArchive(out, base_url=base_url or ARCHIVE_URL, fetcher=fetcher)
    try:
        for i, f in enumerate(files):
            try:
                res = archive.fetch(f)
            except LiqmapError as exc:
                tally.failed.append((f.relpath, str(exc)))
            else:
                getattr(tally, res.status).append(f.relpath)
                tally.bytes += res.bytes
            if progress:
                progress(i + 1, len(files), f.name)
    finally:
        if own:
            fetcher.close()
    if store is not None:
        store_archive_days(archive, files, store, tally)


# ----------------------------------------------------------------------------- store
def archive_ccxt_symbol(market: str, ident: str) -> str:
    """ccxt unified symbol of an archive id.

    Examples
    --------
    >>> archive_ccxt_symbol("um", "BTCUSDT"), archive_ccxt_symbol("cm", "BTCUSD_PERP")
    ('BTC/USDT:USDT', 'BTC/USD:BTC')
    """
    if market == "cm":
        base = ident.split("_")[0][:-3]
        return f"{base}/USD:{base}"
    m = re.fullmatch(r"(.+?)(USDT|USDC|BUSD)", ident)
    if not m:
        return ident
    return f"{m.group(1)}/{m.group(2)}:{m.group(2)}"


def _present(archive: BinanceArchive, files: list[ArchiveFile]) -> dict[str, dict[str, str]]:
    by_day: dict[str, dict[str, str]] = defaultdict(dict)
    for f in files:
        csv = archive.local_csv(f)
        if csv.is_file() and archive.manifest.is_complete(archive.local_zip(f)):
            by_day[f.period][f.dataset] = str(csv)
    return by_day


def store_archive_days(archive: BinanceArchive, files: list[ArchiveFile], store, tally) -> None:
    """Write every complete day of ``files`` to ``store`` (see the module docstring)."""
    if not files:
        return
    market, ident = files[0].market, files[0].symbol
    symbol = archive_ccxt_symbol(market, ident)
    by_period = _present(archive, files)
    funding = sorted(p["fundingRate"] for k, p in by_period.items()
                     if len(k) == 7 and "fundingRate" in p)
    for day in sorted(k for k in by_period if len(k) == 10):
        have = by_period[day]
        klines = next((have[k] for k in sorted(have) if k.startswith("klines-")), None)
        try:
            if klines and "metrics" in have:
                bars = load_binance_bars(klines, have["metrics"], funding or None,
                                         symbol=symbol, venue="binance")
                tally.stored_bars += int(store.write_bars(bars))
            if "liquidationSnapshot" in have:
                cv = (COINM_CONTRACT_USD.get(ident.split("USD")[0], 10.0) if market == "cm"
                      else None)
                liq = load_liquidation_snapshot(have["liquidationSnapshot"], symbol=symbol,
                                                venue="binance", contract_value_usd=cv)
                tally.stored_realized += int(store.write_realized(liq))
        except LiqmapError as exc:
            tally.failed.append((f"store {day}", str(exc)))

"""Readers for the recorded Hyperliquid BTC perp files of window C (trades, 1-min context, L2).

The files are ``../shared/data/raw/hyperliquid_hlreaper/{trades,ctx,l2}_BTC_YYYYMMDD.jsonl.gz``
(see ``raw/SOURCES.md``): one JSON object per line. Payloads are parsed here, at the edge,
into frozen records of arrays; nothing venue-shaped reaches the core.

- trades: ``{"ts": ms, "px": USD, "sz": BTC, "side": "B"|"A"}``; ``side`` is the aggressor
  (``"B"`` = taker buy), as in the Hyperliquid websocket ``trades`` feed.
- context: ``{"ts", "funding" (hourly), "oi" (BTC), "mark", "oracle"}``, about one per minute.
- L2: ``{"ts", "bids": [[px, sz], ...], "asks": [...]}``, 20 levels per side, best first.

Where the recorder restarted, a file goes back in time and records an overlap again (two
trades files, two context files). The readers keep the later recording over the overlap
(rows of the earlier segment at or after the restart time are dropped) and count the dropped
rows in ``dropped_overlap``.

Examples
--------
>>> trades = read_trades(hl_files("trades"), max_rows=1000)  # doctest: +SKIP
>>> trades.notional_usd.sum()  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liqmap._exceptions import DataError
from liqmap.io.shared_data import shared_data_dir

__all__ = [
    "HLBooks",
    "HLContext",
    "HLTrades",
    "hl_dir",
    "hl_files",
    "read_ctx",
    "read_l2",
    "read_trades",
]

_SUBDIR = "raw/hyperliquid_hlreaper"


def hl_dir(root: str | Path | None = None) -> Path:
    """Folder of the Hyperliquid recordings under ``root`` (default: the shared data folder,
    :func:`liqmap.io.shared_data.shared_data_dir`).

    Raises
    ------
    DataError
        If the folder does not exist.
    """
    base = Path(root) if root is not None else shared_data_dir()
    d = None if base is None else base / _SUBDIR
    if d is None or not d.is_dir():
        raise DataError("Hyperliquid recordings not found; set LIQMAP_SHARED_DATA to the "
                        "shared data folder (the one holding raw/hyperliquid_hlreaper)",
                        source=str(d))
    return d


def hl_files(kind: str, root: str | Path | None = None) -> list[Path]:
    """Sorted files of one kind: ``"trades"``, ``"ctx"`` or ``"l2"``."""
    if kind not in ("trades", "ctx", "l2"):
        raise DataError(f"unknown file kind {kind!r}; use 'trades', 'ctx' or 'l2'")
    return sorted(hl_dir(root).glob(f"{kind}_BTC_*.jsonl.gz"))


def _lines(paths, max_rows: int | None):
    if isinstance(paths, (str, Path)):
        paths = [paths]
    n = 0
    for p in paths:
        with gzip.open(p, "rt") as fh:
            for i, line in enumerate(fh):
                if max_rows is not None and n >= max_rows:
                    return
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"not a JSON line ({exc.msg}); re-fetch or truncate the "
                                    "file at its last complete line", source=str(p), row=i) from None
                n += 1


@dataclass(frozen=True, slots=True)
class HLTrades:
    """Trades: ``ts_ms`` (int64), ``px_usd``, ``sz_btc``, ``is_buy`` (aggressor buy)."""

    ts_ms: np.ndarray
    px_usd: np.ndarray
    sz_btc: np.ndarray
    is_buy: np.ndarray
    dropped_overlap: int = 0

    @property
    def notional_usd(self) -> np.ndarray:
        """Trade notional, USD."""
        return self.px_usd * self.sz_btc

    @property
    def signed_usd(self) -> np.ndarray:
        """Notional with the aggressor's sign (+ buy, - sell), USD."""
        return np.where(self.is_buy, 1.0, -1.0) * self.notional_usd


def read_trades(paths, *, max_rows: int | None = None) -> HLTrades:
    """Read trades files (one path or several, in order), optionally the first ``max_rows``."""
    t: list[int] = []
    px: list[float] = []
    sz: list[float] = []
    buy: list[bool] = []
    for d in _lines(paths, max_rows):
        t.append(d["ts"])
        px.append(d["px"])
        sz.append(d["sz"])
        buy.append(d["side"] == "B")
    ts = np.asarray(t, np.int64)
    keep = _keep_later_recording(ts)
    return HLTrades(ts[keep], np.asarray(px, np.float64)[keep], np.asarray(sz, np.float64)[keep],
                    np.asarray(buy, bool)[keep], dropped_overlap=int((~keep).sum()))


@dataclass(frozen=True, slots=True)
class HLContext:
    """1-minute asset context: ``ts_ms``, ``funding`` (hourly), ``oi_btc``, ``mark_usd``,
    ``oracle_usd``."""

    ts_ms: np.ndarray
    funding: np.ndarray
    oi_btc: np.ndarray
    mark_usd: np.ndarray
    oracle_usd: np.ndarray
    dropped_overlap: int = 0


def read_ctx(paths, *, max_rows: int | None = None) -> HLContext:
    """Read 1-minute context files."""
    cols: dict[str, list[float]] = {k: [] for k in ("ts", "funding", "oi", "mark", "oracle")}
    for d in _lines(paths, max_rows):
        for k, v in cols.items():
            v.append(d.get(k, np.nan))
    ts = np.asarray(cols["ts"], np.int64)
    keep = _keep_later_recording(ts)
    funding, oi, mark, oracle = (np.asarray(cols[k], np.float64)[keep]
                                 for k in ("funding", "oi", "mark", "oracle"))
    return HLContext(ts[keep], funding, oi, mark, oracle, dropped_overlap=int((~keep).sum()))


@dataclass(frozen=True, slots=True)
class HLBooks:
    """L2 snapshots: ``ts_ms`` (N,), ``bid_px_usd``/``bid_sz_btc``/``ask_px_usd``/``ask_sz_btc``
    (N, L), best level first; short books are padded with NaN."""

    ts_ms: np.ndarray
    bid_px_usd: np.ndarray
    bid_sz_btc: np.ndarray
    ask_px_usd: np.ndarray
    ask_sz_btc: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    @property
    def mid_usd(self) -> np.ndarray:
        """Mid price of each snapshot."""
        return 0.5 * (self.bid_px_usd[:, 0] + self.ask_px_usd[:, 0])

    def snapshot(self, i: int):
        """``(bid_px, bid_sz, ask_px, ask_sz)`` of snapshot ``i`` without padding."""
        out = []
        for px, sz in ((self.bid_px_usd[i], self.bid_sz_btc[i]), (self.ask_px_usd[i], self.ask_sz_btc[i])):
            ok = np.isfinite(px)
            out += [px[ok], sz[ok]]
        return tuple(out)


def read_l2(paths, *, max_rows: int | None = None, every: int = 1, levels: int = 20) -> HLBooks:
    """Read L2 snapshots, keeping one in ``every`` (``max_rows`` counts lines read)."""
    t: list[int] = []
    arrs: list[list[np.ndarray]] = [[], [], [], []]
    for i, d in enumerate(_lines(paths, max_rows)):
        if i % every or not d.get("bids") or not d.get("asks"):
            continue
        t.append(d["ts"])
        for j, side in enumerate(("bids", "asks")):
            lv = np.full((levels, 2), np.nan)
            got = np.asarray(d[side][:levels], dtype=np.float64).reshape(-1, 2)
            lv[: len(got)] = got
            arrs[2 * j].append(lv[:, 0])
            arrs[2 * j + 1].append(lv[:, 1])
    if not t:
        raise DataError("no L2 snapshot with both sides was read", source=str(paths))
    ts = np.asarray(t, np.int64)
    keep = _keep_later_recording(ts)
    return HLBooks(ts[keep], *(np.vstack(a)[keep] for a in arrs))


def _keep_later_recording(ts: np.ndarray) -> np.ndarray:
    """Mask dropping the earlier segment's rows overlapped by a later (restarted) recording."""
    keep = np.ones(ts.size, bool)
    for i in np.nonzero(np.diff(ts) < 0)[0] + 1:
        keep[:i] &= ts[:i] < ts[i]
    return keep

"""Where the service reads its data: the bundled samples or a store.

A :class:`DataSource` answers four questions: what it holds (:meth:`DataSource.catalog`,
which also carries a ``version`` that changes whenever the data does), the bars of one
venue and symbol, and the realized liquidations of one venue and symbol (if any).

- :class:`BundledSource` serves the sample shipped inside the package
  (:func:`liqmap.io.load_sample`); it never changes, so its version is constant.
- :class:`StoreSource` reads through the :class:`liqmap.store._base.Store` protocol (the
  DuckDB store by default); its version is derived from what the store reports per series,
  so new rows written by a live collector change it. It reads that inventory through a
  handle of its own (beside long bar reads), and only once for a DuckDB file opened
  read-only (:meth:`StoreSource.from_path`), which no process can write meanwhile.

Errors: a source raises :class:`liqmap.RetryLaterError` when it is temporarily unable to
answer (store locked, disk gone) and :class:`liqmap.InputError` when the question is wrong
(unknown venue or symbol). :class:`StoreSource` turns every other exception of the store
into ``RetryLaterError``, so the service answers 503 and tries again on the next request.

>>> src = BundledSource()
>>> cat = src.catalog()
>>> cat.venues, cat.symbols
(('binance',), ('BTC/USDT:USDT',))
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from liqmap._exceptions import ConfigError, InputError, RetryLaterError
from liqmap.core.bars import Bars
from liqmap.core.realized import RealizedLiquidations

__all__ = ["BundledSource", "Catalog", "DataSource", "Series", "SharedBars", "StoreSource"]


@dataclass(frozen=True, slots=True)
class Series:
    """One bar series a source holds: venue, symbol and its first/last bar open time."""

    venue: str
    symbol: str
    first_ts_ms: int
    last_ts_ms: int
    bars: int


@dataclass(frozen=True, slots=True)
class Catalog:
    """What a source holds at one moment, with the version of that content.

    Attributes
    ----------
    name : str
        Human-readable source name (``"bundled:btcusdt-5m-2025-12"``, ``"duckdb:/x.db"``).
    version : str
        Changes whenever any series changes; equal versions mean equal data.
    series : tuple of Series
        Every bar series, sorted by venue and symbol.
    """

    name: str
    version: str
    series: tuple[Series, ...]

    @property
    def venues(self) -> tuple[str, ...]:
        """Venues with at least one bar series, sorted."""
        return tuple(sorted({s.venue for s in self.series}))

    @property
    def symbols(self) -> tuple[str, ...]:
        """Symbols of any venue, in catalog order (the first is the default)."""
        return tuple(dict.fromkeys(s.symbol for s in self.series))

    def venues_for(self, symbol: str) -> tuple[str, ...]:
        """Venues that hold ``symbol``."""
        return tuple(s.venue for s in self.series if s.symbol == symbol)

    def get(self, venue: str, symbol: str) -> Series | None:
        """The series of ``venue`` and ``symbol``, or None."""
        for s in self.series:
            if s.venue == venue and s.symbol == symbol:
                return s
        return None


class DataSource(ABC):
    """What the service needs from a data source (all methods may block; the service
    calls them in worker threads with a deadline)."""

    @abstractmethod
    def catalog(self) -> Catalog:
        """The series held now and the data version."""

    @abstractmethod
    def bars(self, venue: str, symbol: str) -> Bars:
        """All bars of ``venue`` and ``symbol`` (InputError when none are held)."""

    def realized(self, venue: str, symbol: str, start_ms: int | None = None,
                 end_ms: int | None = None) -> RealizedLiquidations | None:
        """Realized liquidations in ``[start_ms, end_ms)``, or None when the source has none."""
        return None

    def scorecard_store(self):
        """The store whose stored predictions the running scorecard reads (``liqmap live
        --db``), or None when the source has none (default)."""
        return None

    def level_approaches(self, venue: str | None = None, symbol: str | None = None,
                         start_ms: int | None = None) -> list | None:
        """Stored level approaches (``liqmap.store.LevelApproach``), oldest first, or None
        when the source keeps none (default: it is not a store)."""
        return None

    def keeps_level_watch(self) -> bool:
        """Whether :meth:`level_approaches` answers (a store); cheap, no read."""
        return False

    def close(self) -> None:  # noqa: B027 - an optional hook, deliberately not abstract
        """Release resources (default: nothing)."""


def _digest(parts) -> str:
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:16]


class BundledSource(DataSource):
    """The sample bundled with liqmap (default ``btcusdt-5m-2025-12``), read once.

    Parameters
    ----------
    sample : str
        A name from :func:`liqmap.io.list_samples`.

    Examples
    --------
    >>> BundledSource().bars("binance", "BTC/USDT:USDT").bar_ms
    300000
    """

    def __init__(self, sample: str | None = None):
        from liqmap.io.sample import DEFAULT_SAMPLE, load_sample

        self.sample = sample or DEFAULT_SAMPLE
        self.name = f"bundled:{self.sample}"
        self._bars = load_sample(self.sample)
        b = self._bars
        series = Series(b.venue, b.symbol, int(b.ts_ms[0]), int(b.ts_ms[-1]), len(b))
        self._catalog = Catalog(self.name, _digest(("bundled", series)),
                                (series,))

    def catalog(self) -> Catalog:
        return self._catalog

    def bars(self, venue: str, symbol: str) -> Bars:
        if (venue, symbol) != (self._bars.venue, self._bars.symbol):
            raise ConfigError(f"the bundled sample holds {self._bars.venue} "
                              f"{self._bars.symbol} only, not {venue} {symbol}")
        return self._bars


class StoreSource(DataSource):
    """Read bars and realized liquidations from a :class:`~liqmap.store._base.Store`.

    Parameters
    ----------
    store : Store
        Any object with the store protocol (``series``, ``read_bars``, ``read_realized``).
    name : str, optional
        Name shown by ``/api/v1/health`` (default: the store's class name).

    opener : callable, optional
        Instead of ``store``: a function returning one, called on first use and again
        after the store failed to open (so a locked file at start-up is retried).
    catalog_opener : callable, optional
        A function returning a second handle on the same store, used for
        :meth:`catalog` only, so that the catalog is read beside a long bar read instead
        of after it (a store serializes the queries of one handle). Default: ``store``.
    static : bool
        True when nothing can write the store while this source holds it open (a DuckDB
        file opened read-only: DuckDB then locks every writer out), so the catalog is read
        once instead of scanning the tables again at every refresh.

    Notes
    -----
    The version is a digest of ``store.series()`` (rows and time span per table, venue and
    symbol): appending bars or liquidations changes it.
    """

    def __init__(self, store=None, *, name: str | None = None, opener=None,
                 catalog_opener=None, static: bool = False):
        if (store is None) == (opener is None):
            raise ConfigError("give a store or an opener, not both or neither")
        self.store = store
        self._opener = opener
        self._catalog_store = None
        self._catalog_opener = catalog_opener
        self.static = bool(static)
        self._static_catalog: Catalog | None = None
        self.name = name or ("store" if store is None else f"store:{type(store).__name__}")

    @classmethod
    def from_path(cls, path, *, read_only: bool = True) -> StoreSource:
        """A source over the DuckDB file ``path``, opened lazily (read-only by default).

        The catalog is read through a second connection to the same database, so it
        never waits for a bar read to finish; read-only, it is read once (``static``).
        """
        from liqmap.store import open_store

        def opener():
            return open_store(path, read_only=read_only)

        return cls(opener=opener, catalog_opener=opener, name=f"duckdb:{path}",
                   static=read_only)

    def _handle(self, for_catalog: bool):
        if for_catalog and self._catalog_opener is not None:
            if self._catalog_store is None:
                self._catalog_store = self._catalog_opener()
            return self._catalog_store
        if self.store is None:
            self.store = self._opener()
        return self.store

    def _call(self, what: str, method: str, *args, for_catalog: bool = False):
        try:
            return getattr(self._handle(for_catalog), method)(*args)
        except (InputError, RetryLaterError):
            raise
        except Exception as exc:  # the store's own driver errors: treat as temporary
            raise RetryLaterError(f"store failed while reading {what}: "
                                  f"{type(exc).__name__}: {exc}") from exc

    def catalog(self) -> Catalog:
        if self._static_catalog is not None:
            return self._static_catalog
        infos = self._call("its catalog", "series", for_catalog=True)
        bars = sorted((i for i in infos if i.table == "bars"),
                      key=lambda i: (i.venue, i.symbol))
        series = tuple(Series(i.venue, i.symbol, int(i.first_ts_ms), int(i.last_ts_ms),
                              int(i.rows)) for i in bars)
        key = sorted((i.table, i.venue, i.symbol, i.rows, i.first_ts_ms, i.last_ts_ms)
                     for i in infos)
        cat = Catalog(self.name, _digest(key), series)
        if self.static:
            self._static_catalog = cat
        return cat

    def bars(self, venue: str, symbol: str) -> Bars:
        return self._call(f"bars of {venue} {symbol}", "read_bars", venue, symbol)

    def realized(self, venue: str, symbol: str, start_ms: int | None = None,
                 end_ms: int | None = None) -> RealizedLiquidations | None:
        liq = self._call(f"realized liquidations of {venue} {symbol}",
                         "read_realized", venue, symbol, start_ms, end_ms)
        return liq if len(liq) else None

    def level_approaches(self, venue: str | None = None, symbol: str | None = None,
                         start_ms: int | None = None) -> list | None:
        if self.store is not None and not hasattr(self.store, "read_level_approaches"):
            return None  # a store without the level watch
        return self._call("level approaches", "read_level_approaches", venue, symbol,
                          start_ms)

    def keeps_level_watch(self) -> bool:
        return self.store is None or hasattr(self.store, "read_level_approaches")

    def scorecard_store(self):
        try:
            return self._handle(for_catalog=False)
        except (InputError, RetryLaterError):
            raise
        except Exception as exc:  # as in _call: the store's own driver errors are temporary
            raise RetryLaterError(f"store failed to open: {type(exc).__name__}: {exc}"
                                  ) from exc

    def close(self) -> None:
        for handle in (self._catalog_store, self.store):
            if handle is not None:
                try:
                    handle.close()
                except Exception as exc:  # the store's own driver errors: as in _call
                    raise RetryLaterError(f"store failed while closing: "
                                          f"{type(exc).__name__}: {exc}") from exc


class SharedBars(DataSource):
    """``source`` with each bar series read once per data version and shared by all views.

    A view reads the catalog, its bars, then the catalog again
    (:func:`liqmap.service.views.compute_view`). The bars read in between are kept, under
    that version, once the second catalog read shows the version did not change, so they
    belong to it; later views of that version (other lookbacks, the aggregate) take them
    from ``cache`` instead of reading the series again. A store of millions of bars then
    holds one copy per series, however many views are cached.

    Parameters
    ----------
    source : DataSource
    cache : object
        A thread-safe map with ``get(key)`` and ``put(key, value)``
        (:class:`liqmap.service.runtime.LRU`), keyed by ``(venue, symbol, version)``.
    """

    def __init__(self, source: DataSource, cache):
        self.source = source
        self.cache = cache
        self._local = threading.local()  # per worker thread: last version, bars read since

    def catalog(self) -> Catalog:
        cat = self.source.catalog()
        local = self._local
        if getattr(local, "version", None) == cat.version:
            for (venue, symbol), bars in local.pending.items():
                self.cache.put((venue, symbol, cat.version), bars)
        local.version, local.pending = cat.version, {}
        return cat

    def bars(self, venue: str, symbol: str) -> Bars:
        version = getattr(self._local, "version", None)
        found = None if version is None else self.cache.get((venue, symbol, version))
        if found is None:
            found = self.source.bars(venue, symbol)
            if version is not None:
                self._local.pending[(venue, symbol)] = found
        return found

    def realized(self, venue: str, symbol: str, start_ms: int | None = None,
                 end_ms: int | None = None) -> RealizedLiquidations | None:
        return self.source.realized(venue, symbol, start_ms, end_ms)

    def close(self) -> None:
        self.source.close()

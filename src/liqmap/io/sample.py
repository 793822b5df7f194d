"""Real Binance BTCUSDT perpetual bars shipped inside the package.

Each sample is ``liqmap/data/<name>.csv.gz`` (the generic layout of
:func:`liqmap.io.load_bars`, OI in BTC) with ``<name>.json`` beside it (venue, symbol,
span, origin). ``liqmap/data/README.md`` says where the data came from and how it was
transformed; ``scripts/make_sample.py`` rebuilds the files from ``../shared/data/raw``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from importlib.resources.abc import Traversable

from liqmap._exceptions import ConfigError
from liqmap.core.bars import Bars
from liqmap.io.generic import load_bars

__all__ = ["DEFAULT_SAMPLE", "list_samples", "load_sample", "sample_info"]

DEFAULT_SAMPLE = "btcusdt-5m-2025-12"


def _data_dir() -> Traversable:
    return resources.files("liqmap").joinpath("data")


def list_samples() -> tuple[str, ...]:
    """Names of the bundled samples, sorted.

    Examples
    --------
    >>> "btcusdt-5m-2025-12" in list_samples()
    True
    """
    names = {p.name[: -len(".json")] for p in _data_dir().iterdir() if p.name.endswith(".json")}
    have_csv = {p.name[: -len(".csv.gz")] for p in _data_dir().iterdir()
                if p.name.endswith(".csv.gz")}
    return tuple(sorted(names & have_csv))


def sample_info(name: str = DEFAULT_SAMPLE) -> dict:
    """The metadata of one sample (venue, symbol, span, columns, units, origin)."""
    _check_name(name)
    return json.loads(_data_dir().joinpath(f"{name}.json").read_text(encoding="utf-8"))


def _check_name(name: str) -> None:
    if name not in list_samples():
        raise ConfigError(f"unknown sample {name!r}; choose one of {list(list_samples())}")


def load_sample(name: str = DEFAULT_SAMPLE) -> Bars:
    """Load a bundled sample as validated :class:`~liqmap.core.bars.Bars`.

    Parameters
    ----------
    name : str
        One of :func:`list_samples` (default ``"btcusdt-5m-2025-12"``: Binance BTCUSDT
        perpetual, 5m bars, 2025-12-01 to 2025-12-31, OI in BTC, funding per 8 h).

    Raises
    ------
    ConfigError
        If the name is unknown (the message lists the available ones).

    Examples
    --------
    >>> bars = load_sample()
    >>> bars.bar_ms
    300000
    """
    info = sample_info(name)
    with resources.as_file(_data_dir().joinpath(f"{name}.csv.gz")) as path:
        bars = load_bars(path, oi_unit="base", venue=info["venue"], symbol=info["symbol"],
                         gaps="warn")
    return replace(bars, source=f"liqmap sample {name}")

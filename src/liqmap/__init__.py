"""liqmap: where leveraged positions on crypto perpetuals would be liquidated.

The public API is re-exported here (``__all__``, sorted; ``tests/test_public_api.py``
keeps it complete):

- ``LiquidationModel`` -> ``.run(bars)`` -> ``Estimate`` (heatmap, map, predicted liquidations)
- ``CascadeSimulator`` -> ``.run(maps, shock_pct)`` -> ``CascadeResult``
- ``Bars``, ``LiqMap``, ``Heatmap``, ``RealizedLiquidations`` records
- ``load_sample``, ``load_bars`` loaders; ``liquidation_price`` venue formulas
- ``DuckDBStore`` / ``open_store`` (the store), ``MapSnapshot``; ``IncrementalModel`` and
  ``LiveRunner`` (live mode); ``map_tasks`` (Dask scale-out); ``create_app`` (the API service)
- exceptions: ``LiqmapError`` > ``InputError`` (> ``DataError``, ``ConfigError``) | ``RetryLaterError``
"""

from __future__ import annotations

from importlib import import_module as _import_module

from liqmap._exceptions import ConfigError, DataError, InputError, LiqmapError, RetryLaterError

# loaded on first use, so that importing the numeric core never loads the outer layers, and
# importing any module of the package (``liqmap --help``) loads no numpy
_LAZY = {
    "Bars": "liqmap.core.bars", "CascadeResult": "liqmap.cascade", "CascadeSimulator": "liqmap.cascade",
    "CurveResult": "liqmap.cascade", "Estimate": "liqmap.model", "Heatmap": "liqmap.core.records",
    "LiqMap": "liqmap.core.records", "LiquidationModel": "liqmap.model",
    "RealizedLiquidations": "liqmap.core.realized", "liquidation_price": "liqmap.core.liqprice",
    "load_bars": "liqmap.io.generic", "load_sample": "liqmap.io.sample",
    "DuckDBStore": "liqmap.store", "open_store": "liqmap.store", "MapSnapshot": "liqmap.store",
    "IncrementalModel": "liqmap.live", "LiveRunner": "liqmap.live",
    "map_tasks": "liqmap.scaleout", "create_app": "liqmap.service.app",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'liqmap' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "Bars",
    "CascadeResult",
    "CascadeSimulator",
    "ConfigError",
    "CurveResult",
    "DataError",
    "DuckDBStore",
    "Estimate",
    "Heatmap",
    "IncrementalModel",
    "InputError",
    "LiqMap",
    "LiqmapError",
    "LiquidationModel",
    "LiveRunner",
    "MapSnapshot",
    "RealizedLiquidations",
    "RetryLaterError",
    "__version__",
    "create_app",
    "liquidation_price",
    "load_bars",
    "load_sample",
    "map_tasks",
    "open_store",
]

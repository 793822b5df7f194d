"""liqmap: where leveraged positions on crypto perpetuals would be liquidated.

Public API (re-exported here, see ``__all__``).
"""

from __future__ import annotations

from liqmap._exceptions import ConfigError, DataError, InputError, LiqmapError, RetryLaterError
from liqmap.bars import Bars

__version__ = "0.1.0"

__all__ = [
    "Bars",
    "ConfigError",
    "DataError",
    "InputError",
    "LiqmapError",
    "RetryLaterError",
    "__version__",
]

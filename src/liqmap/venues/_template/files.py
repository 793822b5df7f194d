"""<Venue>'s own file formats into ``Bars`` / ``RealizedLiquidations``.  (TEMPLATE.)

Only where the venue publishes or liqmap records files (Binance: archive CSVs and
liquidation files; Hyperliquid: recordings); delete this file otherwise, and its import in
``__init__.py``. State each layout (columns, units, time stamps) in this docstring. Every
bar loader ends in :func:`liqmap.io.bars_from_frame` (same checks and error messages as
every other loader); read CSVs with :func:`liqmap.io.read_csv_file` and align snapshots
with :func:`liqmap.io.asof_at_close`.
"""

from __future__ import annotations

from os import PathLike

from liqmap.core.bars import Bars

__all__ = ["load_template_bars"]


def load_template_bars(path: str | PathLike, *, symbol: str = "BTC/USDT:USDT") -> Bars:
    """Bars from one of the venue's files (name it ``load_<venue>_bars``)."""
    raise NotImplementedError("TEMPLATE: parse the venue's file, end in bars_from_frame")

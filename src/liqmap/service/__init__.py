"""The JSON API and dashboard service (``liqmap serve``).

- :func:`create_app` builds the FastAPI app (``liqmap.service.app``);
- :class:`BundledSource` / :class:`StoreSource` are the data sources
  (``liqmap.service.sources``); :class:`DataSource` is their interface.

Routes, JSON shapes and error rules are documented in ``liqmap.service.app`` and
``liqmap.service.schemas``; the running server shows them at ``/docs``.
"""

from __future__ import annotations

from liqmap.service.app import create_app
from liqmap.service.sources import BundledSource, Catalog, DataSource, Series, StoreSource

__all__ = ["BundledSource", "Catalog", "DataSource", "Series", "StoreSource", "create_app"]

"""Machinery several venue folders use; it knows no venue (each folder brings its own).

==================  ===========================================================================
``spec``            ``VenueSpec`` (contract units), ``VenueConfig`` (ccxt reach), symbol helpers
``http``            ``HttpFetcher``: GET with timeouts, backoff retries, a per-host rate limit
``files``           atomic writes and the download manifest (sha256 of every kept file)
``ccxt_records``    ccxt ``fetch_*`` records into ``Bars`` / ``RealizedLiquidations``
``records``         the live clients' wire records (``LiveBar``, ``LiveLiquidation``, ticks)
``ws``              websocket connection, ``StreamClosed`` / ``RateLimited``, JSON over HTTP
``rest``            ``RestBars``: closed bars with the open interest at their close
``loopback``        ``LoopbackServer``: the local venue server the folders' loopbacks extend
==================  ===========================================================================

Nothing here imports a venue folder or the registry. The names other packages use are
re-exported by :mod:`liqmap.venues`; import them from there.
"""

from __future__ import annotations

__all__: list[str] = []

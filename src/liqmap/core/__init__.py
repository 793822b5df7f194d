"""The pure numeric core of liqmap: arrays in, arrays out.

Nothing in this package imports the outer layers (``liqmap.io``, ``liqmap.plots``,
``liqmap.cli``, venues, storage, service). ``tests/test_layers.py`` enforces it.
"""

__all__: list[str] = []  # modules are imported by name (``liqmap.core.book``); no re-exports

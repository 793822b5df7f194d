"""The skeleton a venue folder starts from (not a venue: the registry does not list it).

Copy this folder to ``liqmap/venues/<venue>/``, rename ``template``/``Template`` to the
venue, fill in each file (README.md says what each must define), add the folder to
``VENUES`` in :mod:`liqmap.venues.registry`, and add its tests.

==============  ===========================================================================
``spec``        names, ccxt ids, symbols, contract units
``files``       the venue's own file formats (only where it has files)
``history``     ccxt config for ``download`` (and the archive download, where one exists)
``live``        websocket stream and REST backfill
``loopback``    a local server speaking that wire format (tests, demos)
==============  ===========================================================================
"""

from __future__ import annotations

from liqmap.venues._template.files import load_template_bars
from liqmap.venues._template.history import CCXT
from liqmap.venues._template.live import (
    LIVE_CLIENTS,
    TemplateRest,
    TemplateStream,
    parse_message,
)
from liqmap.venues._template.loopback import TemplateLoopback
from liqmap.venues._template.spec import (
    CCXT_IDS,
    ID_EXAMPLES,
    NAME,
    RULES,
    ccxt_symbol,
    listed_symbol,
    spec_from_market,
    symbol_spec,
)

__all__ = [
    "CCXT",
    "CCXT_IDS",
    "ID_EXAMPLES",
    "LIVE_CLIENTS",
    "NAME",
    "RULES",
    "TemplateLoopback",
    "TemplateRest",
    "TemplateStream",
    "ccxt_symbol",
    "listed_symbol",
    "load_template_bars",
    "parse_message",
    "spec_from_market",
    "symbol_spec",
]

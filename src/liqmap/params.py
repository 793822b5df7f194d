"""The one parser of model parameters, for every source: flags, environment, TOML, grids.

Each ``LiquidationModel`` field has a :class:`ParamSpec` in :data:`PARAMS`: its kind, what
is allowed (in words, with the reason for each bound) and its text syntax. Every source
calls :func:`parse_param` with the key as the user wrote it, so an error names that key,
the value and what is allowed:

=====================  ==============================================  =========================
source                 caller                                          key in messages
=====================  ==============================================  =========================
command-line flags     ``liqmap.cli.config.resolve_config`` (flags     ``--half-life``
                       arrive as text: ``liqmap.cli._options``
                       declares them from :data:`PARAMS`)
``LIQMAP_*`` env       ``liqmap.cli.config.resolve_config``            ``LIQMAP_FRAMES``
TOML ``[model]``       ``liqmap.cli.config.resolve_config``            ``[model] frames in FILE``
sweep grids            ``liqmap.scaleout.tasks.parse_grid`` and        ``grid leverage``
                       the task records
the Python API         ``LiquidationModel.__post_init__`` ->           ``frames``
                       :func:`check_model`
=====================  ==============================================  =========================

Text syntax, the same in every source (TOML strings included): numbers as Python writes
them (``1e4``, ``0.5``); integers without a fraction; booleans ``1/0/true/false/yes/no``;
``none`` (also ``null``, ``auto``) for an optional field's "not set" (``bin_usd``: automatic,
``half_life_hours``: no decay, where ``0`` also means no decay; ``tier_version``: latest);
lists (``band_presets``, leverage weights, half-life pairs) separated by ``,`` or ``+`` (a
grid separates its values by ``,``, so write ``10:0.5+25:0.5`` there). An empty text is an
error. Native TOML values must have the field's type: ``true`` is not a number, ``5`` is
not a leverage preset.

>>> parse_param("frames", "300", env_key("frames"))
300
>>> parse_param("band_presets", "all-leverage+low-leverage", grid_key("band_presets"))
('all-leverage', 'low-leverage')
>>> parse_param("half_life_hours", "0", "--half-life") is None
True
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from liqmap._exceptions import ConfigError
from liqmap.core import choices as _ch  # no numpy: the command line's help reads PARAMS
from liqmap.core.choices import SIDE_MODELS
from liqmap.core.leverage import PRESETS, LeveragePreset, get_preset
from liqmap.core.tiers import VENUES, get_tier_table, list_tier_tables, max_leverage
from liqmap.core.timeunits import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND

__all__ = ["BAND_MODES", "CONVENTIONS", "DEFAULT_WARMUP_MS", "LOOKBACKS_MS", "OI_POLICIES",
           "PARAMS",
           "RUN_PARAMS", "ParamSpec",
           "check_model", "env_key", "parse_run_param",
           "file_key", "flag_key", "grid_key", "half_lives", "parse_param"]

OI_POLICIES = {
    "none": _ch.POLICY_NONE, "proportional": _ch.POLICY_PROPORTIONAL,
    "net": _ch.POLICY_NET, "leverage-first": _ch.POLICY_LEVERAGE_FIRST,
}
"""How levels shrink when open interest falls (``LiquidationModel.oi_policy``)."""

CONVENTIONS = ("liqmap", "vendor")
"""``LiquidationModel.convention``: liqmap's counting, or the way popular tools appear to
count (``liqmap.core.vendor``: one side per candle, high leverage, openings never removed)."""

BAND_MODES = ("presets", "none")
"""``LiquidationModel.band``: the low/high band from the band presets, or none."""

KINDS = ("choice", "leverage", "float", "int", "bool", "half_life", "presets", "date",
         "duration")
TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")
NONE_WORDS = ("none", "null", "auto")

MAX_LEVERAGE = max(max_leverage(v) for v in VENUES)
"""No venue allows more (125x); each venue's own maximum is checked by :func:`check_model`."""
MAX_HALF_LIFE_HOURS = 100_000.0
MAX_POSITION_USD = 1e10
BIN_USD_RANGE = (1e-8, 1e6)
MAX_ENTRY_POINTS = 64
MAX_FRAMES = 100_000
EARLIEST_TIER_VERSION = min(t.version for t in list_tier_tables())


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """How one model parameter is written, and what is allowed.

    Attributes
    ----------
    name : str
        ``LiquidationModel`` field.
    kind : str
        One of :data:`KINDS`; decides the text syntax and the type check.
    allowed : str
        What is allowed, with the reason for each bound; completes "KEY must be ...".
    flag : str
        Command-line flag.
    help : str
        Help of the flag.
    lo, hi : float, optional
        Inclusive bounds of a number (``half_life_hours``: lower bound exclusive).
    choices : tuple of str
        Allowed words of a ``choice``.
    optional : bool
        None is allowed (written ``none``, ``null`` or ``auto`` in text).
    """

    name: str
    kind: str
    allowed: str
    flag: str
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False


_PRESET_NAMES = ", ".join(sorted(PRESETS))
_VENUE_MAX = ", ".join(f"{v} {max_leverage(v):g}x" for v in VENUES)

PARAMS: dict[str, ParamSpec] = {s.name: s for s in (
    ParamSpec("venue", "choice", f"one of: {', '.join(VENUES)}", "--venue",
              f"Liquidation rules: {', '.join(VENUES)}.", choices=VENUES),
    ParamSpec("leverage", "leverage",
              f"a leverage preset ({_PRESET_NAMES}) or weights LEV:WEIGHT such as "
              "'10:0.3,25:0.4,50:0.3' ('10:0.3+25:0.7' in a grid), each leverage from 1x to "
              f"the venue's maximum ({_VENUE_MAX})", "--leverage",
              f"Leverage preset ({_PRESET_NAMES}) or weights '10:0.3,25:0.4,50:0.3'."),
    ParamSpec("side_model", "choice", f"a side model, one of: {', '.join(SIDE_MODELS)}",
              "--side-model", "Aggressive side of new OI: candle, taker, funding, neutral.",
              choices=SIDE_MODELS),
    ParamSpec("side_strength", "float",
              "a number from 0 to 1 (0 = 50/50, 1 = the full side model)", "--side-strength",
              "0..1, shrinks the side model towards 50/50.", lo=0.0, hi=1.0),
    ParamSpec("oi_policy", "choice", f"an OI policy, one of: {', '.join(OI_POLICIES)}",
              "--oi-policy", "When OI falls: proportional, net, leverage-first, none.",
              choices=tuple(OI_POLICIES)),
    ParamSpec("half_life_hours", "half_life",
              f"> 0 hours and at most {MAX_HALF_LIFE_HOURS:,.0f} (about 11 years: longer is "
              "no decay): one number for every tier, LEV:HOURS pairs such as '100:6,50:12' "
              "('100:6+50:12' in a grid), or none (also 0) for no decay", "--half-life",
              "Level decay: hours for all tiers, per tier '100:6,50:12', or none.",
              lo=0.0, hi=MAX_HALF_LIFE_HOURS, optional=True),
    ParamSpec("position_notional_usd", "float",
              f"a number of USD from 1 to {MAX_POSITION_USD:g} (one representative position; "
              "it picks the margin tier, and 1e10 is above every venue's top tier)",
              "--position-usd", "Representative position notional (USD); picks the margin "
              "tier.", lo=1.0, hi=MAX_POSITION_USD),
    ParamSpec("bin_usd", "float",
              f"a number of USD from {BIN_USD_RANGE[0]:g} to {BIN_USD_RANGE[1]:g} (narrower "
              "or wider bins resolve no traded price), or auto (about 0.05% of the price)",
              "--bin-usd", "Price-bin width in USD, or auto (default: about 0.05% of price).",
              lo=BIN_USD_RANGE[0], hi=BIN_USD_RANGE[1], optional=True),
    ParamSpec("entry_points", "int",
              f"an integer from 1 to {MAX_ENTRY_POINTS} (entry prices per bar: memory grows "
              "with it, 1,000,000 would take about 15 GiB, and more than 64 adds no "
              "resolution)", "--entry-points", "Entry prices per bar.",
              lo=1, hi=MAX_ENTRY_POINTS),
    ParamSpec("frames", "int",
              f"an integer from 1 to {MAX_FRAMES:,} (heatmap snapshots, at most one per bar; "
              f"{MAX_FRAMES:,} is a year of 5-minute bars, and each snapshot holds a row of "
              "price bins in memory)", "--frames", "Heatmap frames (snapshots of the book).",
              lo=1, hi=MAX_FRAMES),
    ParamSpec("band", "choice", f"one of: {', '.join(BAND_MODES)}", "--band",
              "Low/high band: presets or none.", choices=BAND_MODES),
    ParamSpec("band_presets", "presets",
              f"one or more leverage presets ({_PRESET_NAMES}) separated by ',' or '+', e.g. "
              "'all-leverage+low-leverage' (set band = none for no band)", "--band-presets",
              "Presets forming the band, e.g. all-leverage+low-leverage."),
    ParamSpec("tier_version", "date",
              f"an ISO date YYYY-MM-DD on or after {EARLIEST_TIER_VERSION} (the margin-tier "
              "table in force that day), or latest", "--tier-version",
              "Margin-tier table version (date), or latest.", optional=True),
    ParamSpec("convention", "choice", f"one of: {', '.join(CONVENTIONS)}", "--convention",
              "liqmap (both sides, levels shrink with open interest, the leverage and side "
              "model given) or vendor (as popular tools appear to count: one side per "
              "candle, 25-100x, openings never removed; the model flags are then ignored).",
              choices=CONVENTIONS),
)}


# ---------------------------------------------------------------- run parameters (not fields)
LOOKBACKS_MS = {
    "12h": 12 * MS_PER_HOUR, "24h": 24 * MS_PER_HOUR, "3d": 72 * MS_PER_HOUR,
    "7d": 168 * MS_PER_HOUR, "30d": 720 * MS_PER_HOUR, "90d": 2160 * MS_PER_HOUR,
    "180d": 4320 * MS_PER_HOUR, "1y": 8760 * MS_PER_HOUR,
}
"""The named lookbacks (the span a run draws), in ms; ``liqmap.model`` re-exports them."""
DEFAULT_WARMUP_MS = 90 * MS_PER_DAY
"""Default warm-up before a drawn window: positions opened up to 90 days before it still
stand on the map (a market assumption: perpetual positions are held for days to weeks, and
older levels have mostly been liquidated, closed or shrunk away with open interest); a run
starts at the first bar when the data hold less."""
MAX_WARMUP_MS = 730 * MS_PER_DAY
MAX_OPENED_WITHIN_MS = MAX_WARMUP_MS + 365 * MS_PER_DAY
DURATION_UNITS_MS = {"ms": 1, "s": MS_PER_SECOND, "m": MS_PER_MINUTE, "h": MS_PER_HOUR,
                     "d": MS_PER_DAY, "w": 7 * MS_PER_DAY, "y": 365 * MS_PER_DAY}
"""Unit suffixes of a duration (``24h``, ``90d``, ``1y``); a bare integer is milliseconds."""

RUN_PARAMS: dict[str, ParamSpec] = {s.name: s for s in (
    ParamSpec("warmup", "duration",
              "a duration such as 90d, 36h or 2w (units ms, s, m, h, d, w, y; a bare integer "
              "is ms) from 0 (none: only positions opened in the drawn window) to 730d (a "
              "longer run costs engine time, not levels: few positions stand that long)",
              "--warmup",
              "History run before the drawn window so its first column shows the levels "
              "standing then: a duration (90d, 36h) or 0 for none. Default: all history up "
              "to 90d.", lo=0, hi=MAX_WARMUP_MS),
    ParamSpec("opened_within", "duration",
              "a duration such as 7d or 30d (units ms, s, m, h, d, w, y; a bare integer is "
              "ms), more than 0 and at most 1095d (the longest lookback plus the longest "
              "warm-up), and not shorter than the lookback drawn", "--opened-within",
              "Count positions opened within this span before --at (the map's lookback): "
              "sets the warm-up to it minus --lookback. Default: --lookback + --warmup.",
              lo=1, hi=MAX_OPENED_WITHIN_MS),
)}
"""Parameters of a run (``LiquidationModel.run``), not of the model: how much history before
the drawn window is run (``warmup``) or, the same fact said the other way, which positions
are counted (``opened_within`` = warm-up + drawn span). Parsed by :func:`parse_run_param`."""


def parse_run_param(name: str, value: Any, source: str | None = None) -> Any:
    """Parse and check a run parameter of :data:`RUN_PARAMS` (text or a native value).

    A duration is returned in milliseconds (int); ``None`` stays ``None`` (the default).

    Raises
    ------
    ConfigError
        Naming the key, the value and what is allowed.

    Examples
    --------
    >>> parse_run_param("warmup", "90d"), parse_run_param("warmup", "0")
    (7776000000, 0)
    >>> parse_run_param("opened_within", 3_600_000, "--opened-within")
    3600000
    """
    key = source or name
    if name not in RUN_PARAMS:
        raise ConfigError(f"{key}: unknown run parameter {name!r}; known: {list(RUN_PARAMS)}")
    if value is None:
        return None
    spec = RUN_PARAMS[name]
    if not isinstance(value, str):
        return _check(spec, value, key)
    try:
        return _check(spec, _from_text(spec, value, key), key)
    except _Refused as exc:  # show the text as written, not the number read from it
        raise ConfigError(_message(spec, key, value, exc.problem)) from None


# ---------------------------------------------------------------------------- keys
def flag_key(name: str) -> str:
    """The command-line flag of ``name``, e.g. ``--half-life``."""
    return PARAMS[name].flag if name in PARAMS else f"--{name.replace('_', '-')}"


def env_key(name: str) -> str:
    """The environment variable of ``name``, e.g. ``LIQMAP_FRAMES``."""
    return f"LIQMAP_{name.upper()}"


def file_key(name: str, path) -> str:
    """A key of a TOML file's ``[model]`` table, e.g. ``[model] frames in liqmap.toml``."""
    return f"[model] {name} in {path}"


def grid_key(name: str) -> str:
    """A sweep-grid parameter, e.g. ``grid leverage``."""
    return f"grid {name}"


# ---------------------------------------------------------------------------- parsing
def parse_param(name: str, value: Any, source: str | None = None) -> Any:
    """Parse and check one model parameter from any source.

    Parameters
    ----------
    name : str
        ``LiquidationModel`` field.
    value : str or native value
        Text (flag, environment, grid, TOML string) in the syntax of the module docstring,
        or a native value (TOML number, boolean, list, date; a Python value).
    source : str, optional
        The key as the user wrote it (:func:`flag_key`, :func:`env_key`, :func:`file_key`,
        :func:`grid_key`); default ``name``.

    Returns
    -------
    The value as ``LiquidationModel`` takes it (floats as float, lists as tuples).

    Raises
    ------
    ConfigError
        Naming the key, the value and what is allowed.

    Examples
    --------
    >>> parse_param("bin_usd", "auto", "LIQMAP_BIN_USD") is None, parse_param("bin_usd", 25)
    (True, 25.0)
    """
    key = source or name
    if name not in PARAMS:
        raise ConfigError(f"{key}: unknown model parameter {name!r}; known: {list(PARAMS)}")
    spec = PARAMS[name]
    if not isinstance(value, str):
        return _check(spec, value, key)
    try:
        return _check(spec, _from_text(spec, value, key), key)
    except _Refused as exc:  # show the text as written, not the number read from it
        raise ConfigError(_message(spec, key, value, exc.problem)) from None


def check_model(values: Mapping[str, Any], keys: Mapping[str, str] | None = None) -> None:
    """Check a full set of model parameters: each field, then the fields together (the
    tier table in force for ``venue`` at ``tier_version``; custom leverage weights within
    the venue's maximum leverage). ``keys`` names each field as the user wrote it.

    Raises
    ------
    ConfigError
        Naming the key, the value and what is allowed.
    """
    keys = {**{n: n for n in values}, **(keys or {})}
    unknown = sorted(set(values) - set(PARAMS))
    if unknown:
        raise ConfigError(f"unknown model parameters {unknown}; known: {list(PARAMS)}")
    for name, v in values.items():
        _check(PARAMS[name], v, keys[name])
    venue, version = values.get("venue", "binance"), values.get("tier_version")
    try:
        table = get_tier_table(venue, version=version)
    except ConfigError as exc:
        raise ConfigError(f"{keys.get('tier_version', 'tier_version')} = {version!r}: {exc}"
                          ) from None
    members = [("leverage", values.get("leverage"))]
    if values.get("band", "presets") == "presets":
        members += [("band_presets", p) for p in values.get("band_presets", ())]
    _check_venue_leverage(members, venue, table, keys)


def _check_venue_leverage(members, venue: str, table, keys: Mapping[str, str]) -> None:
    """Custom leverage weights (not the named presets) within the venue's maximum."""
    cap = max_leverage(venue, table=table)
    for name, spec in members:
        preset = None if spec is None else get_preset(spec)
        named = preset in PRESETS.values()  # documented assumptions, kept as they are
        if preset is not None and not named and max(preset.leverages) > cap:
            src = "" if keys.get("venue", "venue") == "venue" else f"; venue from {keys['venue']}"
            raise ConfigError(
                f"{keys[name]} must be at most {venue}'s maximum leverage of {cap:g}x (first "
                f"tier of its {table.version} margin-tier table{src}); got {spec!r}, up to "
                f"{max(preset.leverages):g}x, whose longs would be liquidated above entry")


def half_lives(spec: Any, key: str = "half_life_hours") -> float | dict[float, float] | None:
    """A half-life setting as the model uses it: None (no decay), hours for every tier,
    or ``{leverage: hours}`` (tiers not named do not decay).

    >>> half_lives("100:6+50:12"), half_lives(168), half_lives("none")
    ({100.0: 6.0, 50.0: 12.0}, 168.0, None)
    """
    v = parse_param("half_life_hours", spec, key)
    return _pairs(PARAMS["half_life_hours"], v, key) if isinstance(v, str) else v


# ---------------------------------------------------------------------------- internals
class _Refused(ConfigError):
    """A value outside its spec (``problem`` kept to restate it with the text as written)."""

    def __init__(self, message: str, problem: str):
        super().__init__(message)
        self.problem = problem


def _message(spec: ParamSpec, key: str, value: Any, problem: str) -> str:
    tail = f" ({problem})" if problem else ""
    return f"{key} must be {spec.allowed}; got {value!r}{tail}"


def _fail(spec: ParamSpec, key: str, value: Any, problem: str = "") -> ConfigError:
    return _Refused(_message(spec, key, value, problem), problem)


def _from_text(spec: ParamSpec, text: str, key: str) -> Any:
    t = text.strip()
    if not t:
        raise ConfigError(f"{key} is empty: give {spec.allowed}, or leave it unset for the "
                          "default")
    if spec.optional and t.lower() in NONE_WORDS + (("latest",) if spec.kind == "date" else ()):
        return None
    if spec.kind == "float":
        return _number(spec, key, t, float)
    if spec.kind == "int":
        return _number(spec, key, t, int)
    if spec.kind == "bool":
        if t.lower() in TRUE_WORDS + FALSE_WORDS:
            return t.lower() in TRUE_WORDS
        raise _fail(spec, key, text, "write 1/0, true/false or yes/no")
    if spec.kind == "presets":
        return tuple(p.strip() for p in re.split(r"[,+]", t))
    if spec.kind == "duration":
        return _duration_ms(spec, key, t)
    if spec.kind == "half_life":
        try:
            hours = float(t)
        except ValueError:
            return _join(t)
        return None if hours == 0 else hours
    if spec.kind == "leverage" and ":" in t:
        return _join(t)
    return t


def _number(spec: ParamSpec, key: str, t: str, typ: type) -> Any:
    try:
        return typ(t)
    except ValueError:
        pass
    try:
        float(t)
    except ValueError:
        raise _fail(spec, key, t, "not a number") from None
    raise _fail(spec, key, t, "not an integer")


def _duration_ms(spec: ParamSpec, key: str, t: str) -> int:
    """``90d``, ``36h``, ``1.5d`` or a bare integer of ms, as whole milliseconds."""
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", t.lower())
    if m is None or m.group(2) not in ("", *DURATION_UNITS_MS):
        raise _fail(spec, key, t, "not a duration")
    if not m.group(2) and not m.group(1).isdigit():
        raise _fail(spec, key, t, "a bare number is milliseconds: give an integer or a unit")
    return round(float(m.group(1)) * DURATION_UNITS_MS[m.group(2) or "ms"])


def _join(t: str) -> str:
    """List text with ',' between items (a grid writes '+')."""
    return ",".join(p.strip() for p in re.split(r"[,+]", t))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, numbers.Number):
        return "a number, not text"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def _check(spec: ParamSpec, v: Any, key: str) -> Any:
    """Check a native value; return it as the model takes it."""
    if v is None:
        if spec.optional:
            return None
        raise _fail(spec, key, v, "no value")
    return _CHECKS[spec.kind](spec, v, key)


def _check_number(spec: ParamSpec, v: Any, key: str) -> Any:
    integral = spec.kind == "int"
    typ = numbers.Integral if integral else numbers.Real
    if isinstance(v, bool) or not isinstance(v, typ):
        integer_kind = isinstance(v, numbers.Real) and not isinstance(v, bool)
        raise _fail(spec, key, v, "not an integer" if integer_kind else _type_name(v))
    x = int(cast(numbers.Integral, v)) if integral else float(v)
    lo, hi = _bounds(spec)
    if not math.isfinite(x) or not lo <= x <= hi:
        raise _fail(spec, key, v, "out of range")
    return x


def _bounds(spec: ParamSpec) -> tuple[float, float]:
    """``(lo, hi)`` of a number parameter (every number spec in PARAMS sets both)."""
    if spec.lo is None or spec.hi is None:
        raise TypeError(f"parameter spec {spec.name!r} is a number without bounds")
    return spec.lo, spec.hi


def _check_bool(spec: ParamSpec, v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise _fail(spec, key, v, _type_name(v))
    return v


def _check_choice(spec: ParamSpec, v: Any, key: str) -> str:
    if not isinstance(v, str):
        raise _fail(spec, key, v, _type_name(v))
    if v not in spec.choices:
        raise _fail(spec, key, v)
    return v


def _preset(spec: ParamSpec, v: Any, key: str) -> LeveragePreset:
    if not isinstance(v, (str, LeveragePreset)):
        raise _fail(spec, key, v, _type_name(v))
    try:
        preset = get_preset(v)
    except ConfigError as exc:
        raise _fail(spec, key, v, str(exc)) from None
    if max(preset.leverages) > MAX_LEVERAGE:
        raise _fail(spec, key, v, f"up to {max(preset.leverages):g}x")
    return preset


def _check_leverage(spec: ParamSpec, v: Any, key: str) -> Any:
    _preset(spec, v, key)
    return v


def _check_presets(spec: ParamSpec, v: Any, key: str) -> tuple:
    if isinstance(v, str) or not isinstance(v, (list, tuple)) or not v:
        raise _fail(spec, key, v, "give at least one preset" if not v else _type_name(v))
    for p in v:
        _preset(spec, p, key)
    return tuple(v)


def _check_half_life(spec: ParamSpec, v: Any, key: str) -> Any:
    if isinstance(v, str):
        parsed = _from_text(spec, v, key)
        if not isinstance(parsed, str):
            return _check(spec, parsed, key)
        _pairs(spec, parsed, key)
        return parsed
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise _fail(spec, key, v, _type_name(v))
    _hours(spec, key, v, float(v))
    return float(v)


def _hours(spec: ParamSpec, key: str, value: Any, hours: float) -> None:
    lo, hi = _bounds(spec)
    if not (math.isfinite(hours) and lo < hours <= hi):
        raise _fail(spec, key, value, "out of range")


def _pairs(spec: ParamSpec, text: str, key: str) -> dict[float, float]:
    table: dict[float, float] = {}
    for part in _join(text).split(","):
        a, sep, b = part.partition(":")
        try:
            lev, hours = float(a), float(b)
        except ValueError:
            raise _fail(spec, key, text, f"{part!r} is not LEV:HOURS") from None
        if not sep or not (math.isfinite(lev) and 1.0 <= lev <= MAX_LEVERAGE):
            raise _fail(spec, key, text, f"{part!r}: LEV is a leverage from 1 to "
                        f"{MAX_LEVERAGE:g}")
        if lev in table:
            raise _fail(spec, key, text, f"leverage {lev:g} given twice")
        _hours(spec, key, text, hours)
        table[lev] = hours
    return table


def _check_date(spec: ParamSpec, v: Any, key: str) -> str:
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        v = v.isoformat()
    if not isinstance(v, str):
        raise _fail(spec, key, v, _type_name(v))
    try:
        ok = len(v) == 10 and _dt.date.fromisoformat(v).isoformat() == v
    except ValueError:
        ok = False
    if not ok or v < EARLIEST_TIER_VERSION:
        raise _fail(spec, key, v, "" if ok else "not a date YYYY-MM-DD")
    return v


def _check_duration(spec: ParamSpec, v: Any, key: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise _fail(spec, key, v, "milliseconds as an integer, or text such as 90d"
                    if isinstance(v, numbers.Real) and not isinstance(v, bool)
                    else _type_name(v))
    lo, hi = _bounds(spec)
    if not lo <= int(v) <= hi:
        raise _fail(spec, key, v, "out of range")
    return int(v)


_CHECKS = {
    "choice": _check_choice, "leverage": _check_leverage, "float": _check_number,
    "int": _check_number, "bool": _check_bool, "half_life": _check_half_life,
    "presets": _check_presets, "date": _check_date, "duration": _check_duration,
}

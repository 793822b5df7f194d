"""Model configuration in layers: defaults -> file -> environment -> command-line flags.

- **defaults**: the fields of ``liqmap.model.LiquidationModel``;
- **file**: a TOML file with a ``[model]`` table (``--config FILE``, else ``$LIQMAP_CONFIG``,
  else ``./liqmap.toml`` when it exists);
- **environment**: ``LIQMAP_<FIELD>`` in upper case, e.g. ``LIQMAP_LEVERAGE=high-leverage``;
- **flags**: options given on the command line.

``liqmap show-config`` prints the merged result with the layer each value came from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from liqmap._exceptions import ConfigError
from liqmap.model import LiquidationModel

__all__ = ["build_model", "resolve_config"]

_FIELDS = {f.name: f for f in fields(LiquidationModel)}


def _coerce(name: str, value: Any) -> Any:
    default = _FIELDS[name].default
    if value is None or not isinstance(value, str):
        return tuple(value) if isinstance(value, list) else value
    if name == "band_presets":
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if name == "half_life_hours":
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float) or name in ("bin_usd",):
        return float(value)
    return value


def _file_layer(path: str | Path | None, env: Mapping[str, str]) -> tuple[dict, str | None]:
    if path is None:
        path = env.get("LIQMAP_CONFIG")
    if path is None and Path("liqmap.toml").exists():
        path = "liqmap.toml"
    if path is None:
        return {}, None
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist; fix --config or $LIQMAP_CONFIG")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    table = data.get("model", {})
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"config file {p}: unknown keys {unknown} in [model]; "
                          f"known keys are {sorted(_FIELDS)}")
    return {k: _coerce(k, v) for k, v in table.items()}, str(p)


def resolve_config(flags: Mapping[str, Any] | None = None, *, config_path=None,
                   env: Mapping[str, str] | None = None) -> tuple[dict, dict]:
    """Merge the layers; returns (values, origin of each value)."""
    env = os.environ if env is None else env
    values = {n: f.default for n, f in _FIELDS.items()}
    origin = dict.fromkeys(values, "default")
    file_vals, file_name = _file_layer(config_path, env)
    for k, v in file_vals.items():
        values[k], origin[k] = v, f"file {file_name}"
    for k in _FIELDS:
        key = f"LIQMAP_{k.upper()}"
        if key in env:
            values[k], origin[k] = _coerce(k, env[key]), f"env {key}"
    for k, v in (flags or {}).items():
        if v is not None:
            values[k], origin[k] = _coerce(k, v), "flag"
    return values, origin


def build_model(flags: Mapping[str, Any] | None = None, *, config_path=None,
                env: Mapping[str, str] | None = None) -> LiquidationModel:
    """A validated ``LiquidationModel`` from the merged layers."""
    values, _ = resolve_config(flags, config_path=config_path, env=env)
    return LiquidationModel(**values)

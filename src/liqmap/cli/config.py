"""Model configuration in layers: defaults -> file -> environment -> command-line flags.

- **defaults**: the fields of ``liqmap.model.LiquidationModel``;
- **file**: a TOML file with a ``[model]`` table and nothing else (``--config FILE``, else
  ``$LIQMAP_CONFIG``, else ``./liqmap.toml`` when it exists);
- **environment**: ``LIQMAP_<FIELD>`` in upper case, e.g. ``LIQMAP_LEVERAGE=high-leverage``
  (other ``LIQMAP_*`` variables, such as ``LIQMAP_DB``, are not model parameters);
- **flags**: options given on the command line (as text).

Every value, from every layer, is read by the one parser ``liqmap.params.parse_param``: an
error names the key as written (``LIQMAP_FRAMES``, ``[model] frames in FILE``, ``--bin-usd``),
the value and what is allowed. Unknown keys and tables in the file are errors.

``liqmap show-config`` prints the merged result with the layer each value came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from liqmap._exceptions import ConfigError
from liqmap.model import LiquidationModel
from liqmap.params import check_model, env_key, file_key, flag_key, parse_param

__all__ = ["build_model", "resolve_config"]

_FIELDS = {f.name: f for f in fields(LiquidationModel)}


def _config_path(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if path is None:
        path = env.get("LIQMAP_CONFIG")
        if path is not None and not path.strip():
            raise ConfigError("LIQMAP_CONFIG is empty: unset it or give a TOML file")
    if path is None and Path("liqmap.toml").exists():
        path = "liqmap.toml"
    return None if path is None else Path(path)


def _read_toml(p: Path) -> dict:
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist; fix --config or $LIQMAP_CONFIG")
    if p.is_dir():
        raise ConfigError(f"config file {p} is a directory; give a TOML file with a [model] "
                          "table")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {p} cannot be read ({exc.strerror or exc}); check "
                          "the path and its permissions") from None
    if b"\x00" in raw:
        raise ConfigError(f"config file {p} is a binary file, not TOML text; give a TOML file "
                          "with a [model] table")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {p} is not UTF-8 text (byte {exc.start}); save it as "
                          "UTF-8 TOML") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None


def _model_table(data: dict, p: Path) -> dict:
    tables = sorted(k for k, v in data.items() if k != "model" and (
        isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict))))
    if tables:
        raise ConfigError(f"config file {p}: unknown table(s) {['[' + t + ']' for t in tables]}"
                          "; the only table is [model]")
    loose = sorted(k for k in data if k != "model" and k not in tables)
    if loose:
        raise ConfigError(f"config file {p}: key(s) {loose} outside a table; put model "
                          "parameters under [model]")
    table = data.get("model", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config file {p}: model must be the [model] table, got "
                          f"{table!r}")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"config file {p}: unknown keys {unknown} in [model]; "
                          f"known keys are {sorted(_FIELDS)}")
    return table


def _file_layer(path: str | Path | None, env: Mapping[str, str]) -> tuple[dict, str | None]:
    p = _config_path(path, env)
    if p is None:
        return {}, None
    table = _model_table(_read_toml(p), p)
    return {k: parse_param(k, v, file_key(k, p)) for k, v in table.items()}, str(p)


def _resolve(flags, config_path, env) -> tuple[dict, dict, dict]:
    env = os.environ if env is None else env
    values = {n: f.default for n, f in _FIELDS.items()}
    origin = dict.fromkeys(values, "default")
    keys = {n: n for n in values}
    file_vals, file_name = _file_layer(config_path, env)
    for k, v in file_vals.items():
        values[k], origin[k], keys[k] = v, f"file {file_name}", file_key(k, file_name)
    for k in _FIELDS:
        key = env_key(k)
        if key in env:
            values[k], origin[k], keys[k] = parse_param(k, env[key], key), f"env {key}", key
    for k, v in (flags or {}).items():
        if v is not None:
            values[k], origin[k], keys[k] = parse_param(k, v, flag_key(k)), "flag", flag_key(k)
    return values, origin, keys


def resolve_config(flags: Mapping[str, Any] | None = None, *, config_path=None,
                   env: Mapping[str, str] | None = None) -> tuple[dict, dict]:
    """Merge the layers; returns (values, origin of each value).

    Raises
    ------
    ConfigError
        A value, key or table that is not allowed, or a config file that cannot be read;
        the message names the key as written, the value and what is allowed.
    """
    values, origin, _ = _resolve(flags, config_path, env)
    return values, origin


def build_model(flags: Mapping[str, Any] | None = None, *, config_path=None,
                env: Mapping[str, str] | None = None) -> LiquidationModel:
    """A validated ``LiquidationModel`` from the merged layers."""
    values, _, keys = _resolve(flags, config_path, env)
    check_model(values, keys)  # the fields together, errors naming the keys as written
    return LiquidationModel(**values)

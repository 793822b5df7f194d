"""The fitted-preset files: ``liqmap/data/presets/<name>.json`` found by name, or any path.

A fitted preset (:class:`liqmap.scorecard.preset.FittedPreset`) holds the engine parameters
chosen on a calibration span plus the combined predictor's coefficients. This module only
finds and reads the files, so that the estimator can load a preset's engine parameters
(:meth:`liqmap.model.LiquidationModel.from_preset`) without importing the scorecard, which
sits above it in the layers (``tests/test_layers.py``). It imports the standard library and
``liqmap._exceptions`` only.

>>> d = read_preset_json("fitted-binance-btcusdt-2025-12")   # doctest: +SKIP
>>> d["model"]["leverage"], d["fit_span"]["end"]              # doctest: +SKIP
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from liqmap._exceptions import ConfigError

__all__ = ["DEFAULT_PRESET", "preset_dir", "preset_names", "read_preset_file",
           "read_preset_json"]

DEFAULT_PRESET = "fitted-binance-btcusdt-2025-12"


def preset_dir():
    """The folder of the presets shipped with the package (an ``importlib`` traversable)."""
    return resources.files("liqmap") / "data" / "presets"


def preset_names() -> tuple[str, ...]:
    """Names of the fitted presets shipped with the package."""
    d = preset_dir()
    if not d.is_dir():
        return ()
    return tuple(sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".json")))


def read_preset_file(path) -> dict:
    """The JSON object of a preset file.

    Raises
    ------
    ConfigError
        Unreadable file or not JSON (says how to make one).
    """
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read fitted preset {path} ({exc}); pass a file "
                          "written by `liqmap calibrate`") from None


def read_preset_json(name_or_path: str = DEFAULT_PRESET) -> dict:
    """The JSON object of a shipped preset by name, or of a preset JSON file by path.

    Raises
    ------
    ConfigError
        Unknown name (lists the shipped ones), or an unreadable file.
    """
    p = Path(name_or_path)
    if p.suffix == ".json" and p.exists():
        return read_preset_file(p)
    f = preset_dir() / f"{name_or_path}.json"
    if not f.is_file():
        raise ConfigError(f"unknown fitted preset {name_or_path!r}: use one of "
                          f"{preset_names()} or a path to a preset JSON")
    return json.loads(f.read_text())

"""Fitted presets: a calibrated level-book configuration plus its combination coefficients.

A fitted preset is a JSON file shipped in ``liqmap/data/presets/<name>.json`` (or written
by ``liqmap calibrate``). It holds the engine parameters chosen on the calibration span
(leverage weights, side model and strength, decay half-life, open-interest policy), the
per-side coefficients of the combined predictor (:mod:`liqmap.scorecard.combine`), the span
and data it was fitted on, the selection record and the code version. The files are found
and read by :mod:`liqmap.preset_files` (below the estimator, so that
``LiquidationModel.from_preset`` needs no scorecard import).

>>> p = load_preset("fitted-binance-btcusdt-2025-12")      # doctest: +SKIP
>>> p.model.leverage, p.fit_span["end"]                   # doctest: +SKIP
>>> LiquidationModel.from_preset("fitted-binance-btcusdt-2025-12")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from liqmap._exceptions import ConfigError
from liqmap.model import LiquidationModel
from liqmap.outputs import atomic_write_text
from liqmap.preset_files import DEFAULT_PRESET, preset_names, read_preset_file, read_preset_json
from liqmap.scorecard.combine import FORMULA, SideFit

__all__ = ["DEFAULT_PRESET", "FittedPreset", "load_preset", "model_from_dict", "preset_names"]

_SIDES = ("long", "short")


def model_from_dict(d: dict) -> LiquidationModel:
    """A ``LiquidationModel`` from :meth:`LiquidationModel.to_dict` output
    (:meth:`LiquidationModel.from_dict`)."""
    return LiquidationModel.from_dict(d)


@dataclass(frozen=True, slots=True)
class FittedPreset:
    """Engine parameters plus combination coefficients, with their provenance.

    Attributes
    ----------
    name : str
        Preset name (file stem).
    model : LiquidationModel
        Engine parameters (band ``none``: a point estimate).
    sides : dict
        ``{"long": SideFit, "short": SideFit}``.
    fit_span : dict
        ``start``, ``end`` (ISO, last bar fitted), ``calibration_end`` (first instant not
        used), ``warmup_hours``, ``n_bars``.
    window : str
        Scorecard window fitted on.
    sources : tuple of str
        Data files and notes.
    selection : dict
        How the engine parameters were chosen (criterion, folds, grid size, top points).
    code_version : str
        ``liqmap.__version__`` that produced the fit.
    formula : str
        The combined model in words (``combine.FORMULA``).
    """

    name: str
    model: LiquidationModel
    sides: dict
    fit_span: dict
    window: str
    sources: tuple[str, ...]
    selection: dict
    code_version: str
    formula: str = field(default=FORMULA)

    def combine(self, inputs: dict) -> dict:
        """Predicted USD per side from ``{side: {feature: array}}`` (see
        :func:`liqmap.scorecard.combine.design_inputs`)."""
        return {sd: self.sides[sd].predict(inputs[sd]) for sd in _SIDES}

    def to_dict(self) -> dict:
        """JSON-ready, keys in a fixed order."""
        return {"name": self.name, "window": self.window, "fit_span": self.fit_span,
                "formula": self.formula, "model": self.model.to_dict(),
                "combine": {sd: self.sides[sd].to_dict() for sd in _SIDES},
                "selection": self.selection, "sources": list(self.sources),
                "code_version": self.code_version}

    @classmethod
    def from_dict(cls, d: dict) -> FittedPreset:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(name=d["name"], model=model_from_dict(d["model"]),
                       sides={sd: SideFit.from_dict(d["combine"][sd]) for sd in _SIDES},
                       fit_span=d["fit_span"], window=d["window"],
                       sources=tuple(d["sources"]), selection=d["selection"],
                       code_version=d["code_version"], formula=d["formula"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"fitted preset is missing or has a bad field ({exc}); "
                              "re-create it with `liqmap calibrate`") from None

    def to_json(self, path) -> Path:
        """Write the preset (creates the folder); returns the path."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        return atomic_write_text(path, text)

    @classmethod
    def from_json(cls, path) -> FittedPreset:
        """Read a preset file."""
        return cls.from_dict(read_preset_file(path))


def load_preset(name_or_path: str = DEFAULT_PRESET) -> FittedPreset:
    """A shipped preset by name, or a preset JSON file by path.

    Raises
    ------
    ConfigError
        Unknown name (lists the shipped ones), or an unreadable file.
    """
    return FittedPreset.from_dict(read_preset_json(name_or_path))

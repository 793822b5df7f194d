"""Leverage presets: how new open interest is spread over leverage tiers.

Leverage is never observed in market data, so every preset is an assumption. Each one says
where its numbers come from (``source``); ``../shared/METHOD.md`` §3 collects the facts.
The passive preset is used for the side of new open interest that is *not* the aggressive,
leveraged one (see ``liqmap.core.sides``).

>>> p = get_preset("high-leverage")
>>> p.leverages, p.weights
((25.0, 50.0, 100.0), (0.4, 0.35, 0.25))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from liqmap._exceptions import ConfigError

__all__ = ["PASSIVE_PRESET", "PRESETS", "LeveragePreset", "get_preset", "parse_weights"]


@dataclass(frozen=True, slots=True)
class LeveragePreset:
    """A named distribution of new positions over leverage tiers.

    Attributes
    ----------
    name : str
        Preset name used on the command line.
    leverages : tuple of float
        Leverage tiers (x), ascending.
    weights : tuple of float
        Share of new notional at each tier; sums to 1.
    source : str
        Where the numbers come from.
    """

    name: str
    leverages: tuple[float, ...]
    weights: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        # plain Python, no numpy: the command line names the presets without the numeric core
        lev = [float(x) for x in self.leverages]
        w = [float(x) for x in self.weights]
        if len(lev) == 0 or len(lev) != len(w):
            raise ConfigError(
                f"preset {self.name!r}: give as many weights as leverages "
                f"(got {len(lev)} leverages, {len(w)} weights)"
            )
        if not all(math.isfinite(x) and x >= 1.0 for x in lev):
            raise ConfigError(f"preset {self.name!r}: leverages must be finite and >= 1")
        total = sum(w)
        if (not all(math.isfinite(x) and x >= 0 for x in w)
                or not abs(total - 1.0) <= 1e-6 + 1e-5):  # numpy.isclose(total, 1, atol=1e-6)
            raise ConfigError(
                f"preset {self.name!r}: weights must be >= 0 and sum to 1 (sum is {total:.4f})"
            )
        if any(b <= a for a, b in zip(lev, lev[1:])):
            raise ConfigError(f"preset {self.name!r}: list each leverage once, ascending")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "leverages": list(self.leverages),
                "weights": list(self.weights), "source": self.source}


PRESETS: dict[str, LeveragePreset] = {
    p.name: p
    for p in (
        LeveragePreset(
            "all-leverage",
            (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0),
            (0.10, 0.15, 0.20, 0.20, 0.15, 0.10, 0.07, 0.03),
            "Capital-weighted prior (judgement, not fitted): 45% of notional at 5x or less and "
            "65% at 10x or less, after Hyperliquid Dec 2025 (most open interest at 7x or less); "
            "notional-weighted mean about 15.7x, below BitMEX 2018-19's 22-30x effective "
            "leverage (METHOD.md section 3). Calibration (issue 4) replaces it by a fitted preset.",
        ),
        LeveragePreset(
            "high-leverage",
            (25.0, 50.0, 100.0),
            (0.40, 0.35, 0.25),
            "The 25/50/100x tiers that commercial 'high-leverage' heatmaps draw; weights lean to "
            "25x since Binance 2019 put 60% of trades at 20x or more but few at the cap "
            "(METHOD.md section 3). Judgement, not fitted.",
        ),
        LeveragePreset(
            "peer-common",
            (5.0, 10.0, 25.0, 50.0, 100.0),
            (0.15, 0.30, 0.25, 0.20, 0.10),
            "The prior most used by open-source peers: 5/10/25/50/100x at 15/30/25/20/10% "
            "(METHOD.md section 3).",
        ),
        LeveragePreset(
            "low-leverage",
            (2.0, 3.0, 5.0, 7.0, 10.0),
            (0.20, 0.25, 0.25, 0.15, 0.15),
            "Hyperliquid Dec 2025: most open interest at 7x or less (METHOD.md section 3).",
        ),
    )
}

PASSIVE_PRESET = LeveragePreset(
    "passive",
    (2.0, 3.0, 5.0, 10.0),
    (0.30, 0.30, 0.25, 0.15),
    "The resting (maker) side of new open interest: low leverage, judgement after the "
    "Hyperliquid Dec 2025 figure that most open interest sits at 7x or less (METHOD.md §3).",
)


def parse_weights(text: str) -> LeveragePreset:
    """Parse user weights ``"10:0.3,25:0.4,50:0.3"`` (leverage:weight, normalised to 1).

    >>> parse_weights("10:1,20:1").weights
    (0.5, 0.5)
    """
    pairs = []
    for part in text.split(","):
        lev, sep, wt = part.partition(":")
        try:
            pairs.append((float(lev), float(wt)))
        except ValueError:
            raise ConfigError(
                f"leverage weights {text!r}: write them as LEV:WEIGHT pairs separated by "
                "commas, e.g. '10:0.3,25:0.4,50:0.3'"
            ) from None
        if not sep:
            raise ConfigError(f"leverage weights {text!r}: each entry needs LEV:WEIGHT")
    pairs.sort()
    total = sum(w for _, w in pairs)
    if not total > 0:
        raise ConfigError(f"leverage weights {text!r}: weights must be positive")
    return LeveragePreset("custom", tuple(p[0] for p in pairs),
                          tuple(p[1] / total for p in pairs), "user weights")


def get_preset(name_or_weights: str | LeveragePreset) -> LeveragePreset:
    """A preset by name, or custom weights in ``parse_weights`` syntax."""
    if isinstance(name_or_weights, LeveragePreset):
        return name_or_weights
    if name_or_weights in PRESETS:
        return PRESETS[name_or_weights]
    if ":" in name_or_weights:
        return parse_weights(name_or_weights)
    raise ConfigError(
        f"unknown leverage preset {name_or_weights!r}: use one of {sorted(PRESETS)} "
        "or weights like '10:0.3,25:0.4,50:0.3'"
    )

"""The one exception root of liqmap, with two branches.

::

    LiqmapError
    ├── InputError          fix your input or config; retrying will not help
    │   ├── DataError       a data file or array is malformed (names file, row and fix)
    │   └── ConfigError     a parameter, preset or option is invalid
    └── RetryLaterError     a temporary condition (network, rate limit, busy store); retry

Only ``RetryLaterError`` is ever retried by liqmap itself.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "InputError", "LiqmapError", "RetryLaterError"]


class LiqmapError(Exception):
    """Root of every error liqmap raises on purpose."""


class InputError(LiqmapError, ValueError):
    """The input or configuration is wrong: the message says what to fix."""


class DataError(InputError):
    """A data file or array is malformed.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    source : str, optional
        File name (or array name) the problem was found in.
    row : int, optional
        Zero-based data row (header excluded) of the first offending record.
    """

    def __init__(self, message: str, *, source: str | None = None, row: int | None = None):
        self.source = source
        self.row = row
        where = ""
        if source is not None:
            where = f"{source}"
            if row is not None:
                where += f", row {row}"
            where += ": "
        super().__init__(where + message)


class ConfigError(InputError):
    """A parameter, preset name or option is invalid."""


class RetryLaterError(LiqmapError):
    """A temporary condition (network, rate limit, busy store): retrying may succeed."""

"""``WebhookNotifier``: POST each alert as JSON to a URL (a watcher callback).

Delivery failures (refused connection, timeout, HTTP error status) are logged and counted
in ``failures``; they never raise, so a dead endpoint cannot stop the watcher. Only the
standard library is used (``urllib.request``).

>>> hook = WebhookNotifier("http://127.0.0.1:8080/alerts", timeout_s=2.0)  # doctest: +SKIP
>>> Watcher([AlertRule(1.0)], callbacks=[hook])                           # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from liqmap._exceptions import ConfigError

__all__ = ["WebhookNotifier"]

log = logging.getLogger(__name__)


@dataclass
class WebhookNotifier:
    """Callable that POSTs ``alert.to_dict()`` as ``application/json``.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` endpoint.
    timeout_s : float
        Per-request timeout in seconds.

    Attributes
    ----------
    sent, failures : int
        Alerts delivered (2xx answer) and not delivered.
    last_error : str or None
        The most recent failure, in words.
    """

    url: str
    timeout_s: float = 5.0
    sent: int = 0
    failures: int = 0
    last_error: str | None = field(default=None)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL must start with http:// or https://, got {self.url!r}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ConfigError(f"timeout_s must be > 0, got {self.timeout_s!r}")

    def __call__(self, alert) -> bool:
        """Send one alert; True when delivered."""
        payload = alert.to_dict() if hasattr(alert, "to_dict") else dict(alert)
        body = json.dumps(payload, allow_nan=False).encode()
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                ok = 200 <= resp.status < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return self._fail(f"{type(exc).__name__}: {exc}")
        if not ok:
            return self._fail(f"HTTP {resp.status}")
        self.sent += 1
        return True

    def _fail(self, why: str) -> bool:
        self.failures += 1
        self.last_error = why
        log.warning("webhook %s failed: %s", self.url, why)
        return False

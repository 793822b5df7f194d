"""``HTTPProblem``: an answer with an error status and a message.

Raised by the route modules (:mod:`liqmap.service.routes`) and by the app
(:mod:`liqmap.service.app`), whose exception handler turns it into ``{"detail": ...}`` with
the status. It lives apart from both so that neither imports the other for it.

>>> raise HTTPProblem(422, "unknown venue 'x'")   # doctest: +SKIP
"""

from __future__ import annotations

__all__ = ["HTTPProblem"]


class HTTPProblem(Exception):
    """An answer with an error status and a message (422, 403, 404)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail

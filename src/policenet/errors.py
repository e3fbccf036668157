"""The one error hierarchy of policenet.

Every error the package raises on purpose is a :class:`PolicenetError`. The
edges translate them: the HTTP apps map each class to one status code (see
``policenet.web.errors``), the CLI prints the message and exits non-zero.
Messages are written for the person who caused them: they name the field or
the thing that was wrong and why, and never carry internals. What only an
operator should see (a database path, a driver's message) goes in ``detail``,
which the HTTP apps log and never send, and the command line prints.

::

    PolicenetError
    ├── InvalidInput          bad data from a user or a peer (HTTP 422)
    │   └── InvalidField      one named field is wrong
    ├── NotFound              no such member, record, officer... (HTTP 404)
    ├── Conflict              the request clashes with what exists (HTTP 409)
    ├── Unauthenticated       no valid identity was presented (HTTP 401)
    ├── Forbidden             identity known, action not allowed (HTTP 403)
    ├── TooLarge              a request or upload over its limit (HTTP 413)
    ├── Unavailable           a peer (the hub, the database) cannot be reached (HTTP 503)
    └── IntegrityFailure      stored or received data failed a cryptographic check
"""

from __future__ import annotations


class PolicenetError(Exception):
    """Base of every error policenet raises on purpose."""

    status_code = 500
    code = "internal"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        """For the operator's log and the command line only; never sent over HTTP."""


class InvalidInput(PolicenetError):
    """Input that cannot be accepted as it is."""

    status_code = 422
    code = "invalid_input"


class InvalidField(InvalidInput):
    """One named field of the input is wrong; ``field`` names it, ``reason`` says why."""

    code = "invalid_field"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(PolicenetError):
    status_code = 404
    code = "not_found"


class Conflict(PolicenetError):
    status_code = 409
    code = "conflict"


class Unauthenticated(PolicenetError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(PolicenetError):
    status_code = 403
    code = "forbidden"


class TooLarge(PolicenetError):
    status_code = 413
    code = "too_large"


class Unavailable(PolicenetError):
    status_code = 503
    code = "unavailable"


class IntegrityFailure(PolicenetError):
    """A signature, hash chain or proof did not verify."""

    status_code = 502
    code = "integrity_failure"

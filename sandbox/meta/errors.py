"""Graph API errors exactly as Meta sends them: `{"error": {message, type, code, error_subcode,
is_transient, error_user_title, error_user_msg, fbtrace_id}}` with Meta's HTTP status. The status
says little: `(#2) Service temporarily unavailable` comes as a 400, "Please reduce the amount of
data" as a bare 500, and the two synchronous-insights timeouts as 100/1504018 (a 400 that is not
marked transient) and 2/1504038 (a 500). Clients classify by code, subcode and is_transient.

Shapes, codes and messages follow developers.facebook.com (Graph API "Handling Errors", Marketing
API error reference, Ads Insights error codes) and real bodies quoted in Airbyte's
source-facebook-marketing tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

GRAPH_DOCS = "https://developers.facebook.com/docs/graph-api"
RATE_DOCS = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"


@dataclass
class GraphError(Exception):
    status: int
    code: int
    message: str
    type: str = "OAuthException"
    subcode: int | None = None
    is_transient: bool | None = None
    user_title: str | None = None
    user_msg: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bare: bool = False  # only message and code, as some backend errors come (no type, no trace)

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        if self.bare:
            return {"error": {"message": self.message, "code": self.code}}
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def _oauth(message: str, subcode: int | None = None) -> GraphError:
    # Graph answers token problems with 400 and a WWW-Authenticate challenge.
    challenge = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    return GraphError(400, 190, message, subcode=subcode, headers={"WWW-Authenticate": challenge})


def missing_token() -> GraphError:
    return GraphError(400, 104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    return _oauth("Invalid OAuth access token - Cannot parse access token")


def expired_token(now: datetime) -> GraphError:
    """Subcode 463: the token's session ended (an hour before `now`, in Meta's Pacific time)."""
    pacific = ZoneInfo("America/Los_Angeles")
    local = now.astimezone(pacific)
    expired = local.replace(minute=0, second=0, microsecond=0)
    fmt = "%A, %d-%b-%y %H:%M:%S %Z"
    return _oauth(
        f"Error validating access token: Session has expired on {expired.strftime(fmt)}. "
        f"The current time is {local.strftime(fmt)}.",
        subcode=463,
    )


def password_changed() -> GraphError:
    return _oauth(
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        subcode=460,
    )


def app_not_authorized() -> GraphError:
    return _oauth(
        "Error validating access token: The user has not authorized application 1790045837123456.",
        subcode=458,
    )


def permission_denied() -> GraphError:
    return GraphError(
        403, 200, "(#200) Ad account owner has NOT grant ads_management or ads_read permission"
    )


def unsupported(method: str, node: str) -> GraphError:
    """The answer for an unknown node or one the token cannot see (Meta does not say which)."""
    return GraphError(
        400,
        100,
        f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph "
        f"API documentation at {GRAPH_DOCS}",
        type="GraphMethodException",
        subcode=33,
    )


def invalid_parameter(message: str) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}")


def deprecated_version(latest: str) -> GraphError:
    return GraphError(
        400,
        2635,
        "(#2635) You are calling a deprecated version of the Ads API. "
        f"Please update to the latest version: {latest}.",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(400, 2500, f"Unknown path components: {path}")


def beyond_retention() -> GraphError:
    return GraphError(
        400,
        3018,
        "(#3018) The start date of the time range cannot be beyond 37 months from the current date",
    )


def reduce_data() -> GraphError:
    """What a sync insights call that asks for too much gets; the cure is an async report run.
    Real bodies carry only `message` and `code` (no type, no fbtrace_id)."""
    return GraphError(
        500,
        1,
        "Please reduce the amount of data you're asking for, then retry your request",
        bare=True,
    )


def unknown_error() -> GraphError:
    return GraphError(500, 1, "An unknown error occurred", subcode=99)


def service_unavailable(status: int = 400) -> GraphError:
    """Meta sends this transient error as HTTP 400 (an OAuthException, `is_transient: true`)."""
    return GraphError(status, 2, "(#2) Service temporarily unavailable", is_transient=True)


TIMEOUT_TITLE = "Your request timed out"
TIMEOUT_MSG = "Please try using a smaller date range, fetching less data, or using async jobs."
TIMEOUT_SUBCODES = (1504018, 1504038)


def insights_timeout(subcode: int) -> GraphError:
    """A synchronous insights call that ran out of time: 100/1504018 (HTTP 400, not marked
    transient: a client that reads code 100 as "bad parameter" gives up wrongly) or 2/1504038
    (HTTP 500, transient). Either way the cure is a smaller range or an async report run."""
    if subcode == 1504018:
        return GraphError(
            400,
            100,
            "Service temporarily unavailable",
            subcode=1504018,
            is_transient=False,
            user_title=TIMEOUT_TITLE,
            user_msg=TIMEOUT_MSG,
        )
    if subcode == 1504038:
        return GraphError(
            500,
            2,
            "(#2) Service temporarily unavailable",
            subcode=1504038,
            is_transient=True,
            user_title=TIMEOUT_TITLE,
            user_msg=TIMEOUT_MSG,
        )
    raise ValueError(f"unknown insights timeout subcode {subcode}; use one of {TIMEOUT_SUBCODES}")


def report_not_ready() -> GraphError:
    return GraphError(400, 100, "Error accessing adreport job.", subcode=1815107)


THROTTLES: dict[int, tuple[int, str]] = {
    4: (1504022, "(#4) Application request limit reached"),
    17: (2446079, "(#17) User request limit reached"),
    613: (1487742, "(#613) Calls to this api have exceeded the rate limit."),
    80000: (
        2446079,
        "(#80000) There have been too many calls from this ad-account. Wait a bit and try "
        f"again. For more info, please refer to {RATE_DOCS}.",
    ),
    80004: (
        2446079,
        "(#80004) There have been too many calls to this ad-account. Wait a bit and try "
        f"again. For more info, please refer to {RATE_DOCS}#ads-management.",
    ),
}


def throttled(code: int = 80000) -> GraphError:
    """Rate limits come back as 400s whose code says which bucket ran out (80000 = ads_insights)."""
    if code not in THROTTLES:
        raise ValueError(f"unknown Meta throttle code {code}; use one of {sorted(THROTTLES)}")
    subcode, message = THROTTLES[code]
    return GraphError(400, code, message, subcode=subcode, is_transient=True)

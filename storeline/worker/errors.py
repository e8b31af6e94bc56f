"""How a connector tells the engine what went wrong; the engine decides retry vs fail from this.

SyncError                 base; `code` is a stable machine string, the message is user-safe
├── TransientError        retry with backoff (throttling, 5xx, timeouts, bulk op in progress)
└── TerminalError         fail now, no retry (bad request, unsupported shop setup)
    └── CredentialError   fail now AND mark the credential NEEDS_REAUTH (401/403, 190, …)
LeaseLost                 not an error of the job: another worker owns it now; write nothing
JobCancelled              cancellation was requested (`cancel_requested`); stop, write no results

`task` (optional) names the step that failed ("bulk_poll", "copy_orders"); it lands in the job's
structured `error` beside `code` and `message`.
"""

from __future__ import annotations


class SyncError(Exception):
    code = "sync_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, task: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.task = task


class TransientError(SyncError):
    code = "transient"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        task: str | None = None,
    ) -> None:
        super().__init__(message, code=code, task=task)
        self.retry_after = retry_after


class TerminalError(SyncError):
    code = "terminal"


class CredentialError(TerminalError):
    code = "credential_invalid"


class LeaseLost(Exception):
    """The job's lease token no longer matches: stop at once and write no results."""


class JobCancelled(Exception):
    """Someone asked to cancel this job (`cancel_requested`): stop and write no results."""

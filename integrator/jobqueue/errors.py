"""How a job handler tells the worker what became of it.

JobError
 ├── RetryableJobError   transient: run again with backoff (connection, timeout, 429, 5xx)
 ├── TerminalJobError    will never succeed as is: dead at once, the reason kept
 └── RetryLater          not an error: not ready yet, run again after ``seconds`` (no attempt spent)
Any other exception counts as retryable: a bug gets its attempts, then the job is dead.
"""

from __future__ import annotations


class JobError(Exception):
    pass


class RetryableJobError(JobError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TerminalJobError(JobError):
    pass


class RetryLater(JobError):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason

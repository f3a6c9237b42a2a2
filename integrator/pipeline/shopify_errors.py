"""Turn the Shopify client's named errors into what the job queue understands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from integrator.jobqueue.errors import RetryableJobError, TerminalJobError
from integrator.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyThrottledOut,
    ShopifyUnavailable,
    ShopifyUserErrors,
)


@contextmanager
def as_job_error() -> Iterator[None]:
    try:
        yield
    except (ShopifyThrottledOut, ShopifyUnavailable) as error:
        raise RetryableJobError(f"shopify: {error}", retry_after=5) from error
    except ShopifyAuthError as error:
        # the token may come back (reinstall, refreshed credentials): retry with backoff
        raise RetryableJobError(f"shopify auth: {error}", retry_after=60) from error
    except ShopifyUserErrors as error:
        raise TerminalJobError(f"shopify refused: {error}") from error
    except ShopifyError as error:
        raise RetryableJobError(f"shopify: {error}") from error

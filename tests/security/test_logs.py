"""No secret, address or email in the logs of a full run (orders in, tracking out)."""

from __future__ import annotations

from bench.chaos.common import start_stack
from bench.chaos.security_checks import CUSTOMER_EMAIL, dump_database, full_run_exposure


def test_a_full_run_logs_no_secret_and_no_personal_data(database_url: str) -> None:
    stack = start_stack(database_url)
    try:
        exposure = full_run_exposure(stack, database_url, 4)
        dump = dump_database(database_url)
    finally:
        stack.close()

    assert exposure.log_lines > 20  # the run did log: webhooks, jobs, submissions, syncs
    assert CUSTOMER_EMAIL in dump  # the personal data was really there to leak
    assert exposure.secrets_in_logs == []
    assert exposure.personal_data_in_logs == []

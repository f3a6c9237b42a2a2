"""Issue 11 point 3: slow clients do not stall the web role (short version of
``bench/chaos/slow_clients.py``).

The web role is started as a deployment starts it, by the Procfile's ``web`` line and by
``integrator serve``. Sixty connections (more than its 2 × 8 request threads) declare a
1000-byte body and trickle it; meanwhile every ``/healthz`` and every signed webhook probe
must be answered (200, within the probe's 10 s timeout) while all sixty are still open.
Under gunicorn's threaded worker the first probe timed out: each slow body held a thread.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos.slow_clients import attack
from bench.web_role import SERVERS

SLOW = 60


@pytest.mark.parametrize("server", SERVERS)
def test_the_web_role_answers_while_sixty_bodies_trickle_in(
    database_url: str, tmp_path: Path, server: str
) -> None:
    outcome = attack(server, database_url, SLOW, seconds=2.0, interval=0.5, folder=tmp_path)
    during = outcome.during
    assert during.failures == {}, (outcome.command, during.failures)
    assert len(during.healthz) >= 3 and during.webhooks_200 >= 3, outcome.rows
    assert outcome.slow_open_at_end == SLOW  # the attack was still on while the probes passed
    assert outcome.stored == outcome.webhooks_200  # every 200 is a stored delivery

"""``alert.post``: an alert posted to the configured Slack-compatible webhook URL."""

from __future__ import annotations

import requests

from integrator.bootstrap import Container
from integrator.db.models import Alert
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.worker import JobContext

ALERT_TIMEOUT = (3.05, 10)


def post_alert(container: Container, context: JobContext) -> str:
    """Post an alert to the configured Slack-compatible webhook URL."""
    alert_id = int(str(context.payload["alert_id"]))
    with container.db.read() as session:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.posted:
            return "nothing"
        message = alert.message
    url = container.config().alerts.webhook_url
    if not url:
        return "no_webhook"
    try:
        response = requests.post(url, json={"text": f":warning: {message}"}, timeout=ALERT_TIMEOUT)
    except requests.RequestException as error:
        raise RetryableJobError(f"alert webhook: {type(error).__name__}") from error
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableJobError(f"alert webhook answered {response.status_code}")
    with container.db.write() as session:
        row = session.get(Alert, alert_id)
        if row is not None:
            row.posted = response.ok
    return f"posted:{response.status_code}"

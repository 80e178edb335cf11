"""Send one notification: e-mail through Django's e-mail backend (SMTP settings from the
environment, README "Notifications"), or a POST to a Slack-compatible incoming webhook.

The webhook is one JSON ``{"text": ...}`` POST with a timeout, through the standard library's
``http.client`` like the delivery connectors (no HTTP library is a dependency).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from signoff.notifications.rules import EMAIL, Due


class SendFailed(Exception):
    """The SMTP server or the webhook did not take the notification."""


def send(due: Due, *, webhook_url: str | None) -> str:
    """Send ``due`` on its channel; return what the receiver said. Raise SendFailed."""
    if due.channel == EMAIL:
        return _email(due)
    if not webhook_url:
        raise SendFailed("no webhook URL: the workspace's webhook_env variable is not set here")
    return _webhook(due, webhook_url)


def _email(due: Due) -> str:
    message = EmailMessage(
        subject=due.subject,
        body=due.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(due.recipients),
    )
    try:
        sent = message.send(fail_silently=False)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        raise SendFailed(f"e-mail not sent: {exc}") from exc
    if not sent:
        raise SendFailed("e-mail not sent: the backend took no message")
    return f"e-mail to {', '.join(due.recipients)}"


def _webhook(due: Due, url: str) -> str:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    body = json.dumps({"text": f"*{due.subject}*\n{due.body}"}).encode("utf-8")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection = kind(parts.netloc, timeout=settings.SIGNOFF_NOTIFY_TIMEOUT)
        try:
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            answer = response.read(2000).decode("utf-8", "replace")
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as exc:
        raise SendFailed(f"webhook not reached: {exc}") from exc
    if not 200 <= response.status < 300:
        raise SendFailed(f"webhook answered {response.status}: {answer[:200]}")
    return f"webhook {response.status}"

"""SLA reminders, escalations and daily digests, by e-mail and a Slack-compatible webhook.

``rules`` (pure) says what is due; ``services.notify`` claims each due notification by its
dedup key, sends it (``sending``) and records it with its audit event; ``scheduler`` runs
``notify`` from the worker on a schedule. See docs/notifications.md.
"""

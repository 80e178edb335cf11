from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "signoff.notifications"
    label = "notifications"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        register_action("notification.sent", "Notification sent (SLA reminder, escalation, digest)")
        register_action("notification.failed", "Notification could not be sent")
        register_action("person.digest_changed", "Daily digest turned on or off")

from django.apps import AppConfig

ACTIONS = {
    "link.created": "Review link created",
    "link.viewed": "Review link used to view packages (one event per link and hour)",
    "link.commented": "Comment added through a review link",
    "link.revoked": "Review link revoked",
}


class SharingConfig(AppConfig):
    name = "signoff.sharing"
    label = "sharing"
    verbose_name = "Signoff review links"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signoff.audit.registry import is_registered, register_action

        for name, label in ACTIONS.items():
            if not is_registered(name):
                register_action(name, label)

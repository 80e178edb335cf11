from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "signoff.insights"
    label = "insights"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        register_action("performance.imported", "Channel performance imported")

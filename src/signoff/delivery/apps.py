from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "signoff.delivery"
    label = "delivery"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        register_action("channel.launch_refused", "Channel launch refused")

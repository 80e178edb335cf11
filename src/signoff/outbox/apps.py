from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "signoff.outbox"
    label = "outbox"

    def ready(self) -> None:
        from signoff.audit.registry import register_action
        from signoff.packages import claims

        register_action("delivery.delivered", "Delivery taken by its receiver")
        register_action("delivery.failed", "Delivery refused by its receiver")
        register_action("delivery.dead", "Delivery given up after its last attempt")
        register_action("delivery.retried", "Delivery sent again at a person's request")
        register_action("delivery.taken_down", "Delivery taken down by its receiver")
        from signoff.outbox.services import mark_for_takedown

        # A claim withdrawn after launch: the deliveries making it must come down.
        if mark_for_takedown not in claims.status_changed:
            claims.status_changed.append(mark_for_takedown)

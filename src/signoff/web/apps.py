from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "signoff.web"
    label = "web"
    verbose_name = "Signoff web screens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        # Sign-in and token guessing (signoff.web.throttle): failures are one event per
        # account (or address), address and minute, carrying the count.
        register_action("signin.succeeded", "Signed in to the web app")
        register_action("signin.failed", "Failed sign-ins (per account, address and minute)")
        register_action("token.refused", "Unknown API tokens refused (per address and minute)")
        register_action(
            "link.refused", "Unknown review-link tokens refused (per address and minute)"
        )

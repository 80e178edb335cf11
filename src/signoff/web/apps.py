from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "signoff.web"
    label = "web"
    verbose_name = "Signoff web screens"
    default_auto_field = "django.db.models.BigAutoField"

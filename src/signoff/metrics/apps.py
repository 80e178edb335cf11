from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "signoff.metrics"
    label = "metrics"

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "signoff.audit"
    label = "audit"

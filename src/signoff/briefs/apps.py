from django.apps import AppConfig


class BriefsConfig(AppConfig):
    name = "signoff.briefs"
    label = "briefs"

from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "signoff.packages"
    label = "packages"

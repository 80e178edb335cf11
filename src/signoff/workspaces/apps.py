from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "signoff.workspaces"
    label = "workspaces"

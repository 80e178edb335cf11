from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "signoff.workspaces"
    label = "workspaces"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        # "token.issued" is a builtin action (signoff.audit.registry).
        register_action("token.revoked", "API token revoked")

from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "signoff.memory"
    label = "memory"

    def ready(self) -> None:
        from signoff.audit.registry import register_action

        register_action("workspace.rule_learned", "Rule learned from decisions accepted")

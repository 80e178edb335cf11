from django.apps import AppConfig

ACTIONS = {
    "package.comment_resolved": "Comment on a package resolved",
}


class CommentsConfig(AppConfig):
    name = "signoff.comments"
    label = "comments"
    verbose_name = "Signoff inline comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signoff.audit.registry import is_registered, register_action

        for name, label in ACTIONS.items():
            if not is_registered(name):
                register_action(name, label)

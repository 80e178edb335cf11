from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "signoff.packages"
    label = "packages"

    def ready(self) -> None:
        from signoff.audit.registry import register_action
        from signoff.workflow import AUDIT_ACTIONS

        # Every move the workflow engine can return is a registered audit action.
        for name, label in AUDIT_ACTIONS.items():
            register_action(name, label)
        register_action("package.reassigned", "Package reassigned")
        register_action("package.commented", "Package commented")
        register_action("brief.enriched", "Brief enriched with accepted proposals")
        register_action("package.draft_failed", "No valid draft from the provider")
        register_action("package.reset", "Package sent back for re-drafting (brief changed)")
        register_action("brief.impact_assessed", "Brief change impact assessed")
        from signoff.packages.refusals import REFUSED_ACTIONS

        for name, label in REFUSED_ACTIONS.values():
            register_action(name, label)

from django.apps import AppConfig

ACTIONS = {
    "reference.added": "Reference added",
    "image.run_started": "Image generation started",
    "image.run_finished": "Image generation finished",
    "image.run_failed": "Image generation stopped on an error",
    "image.generated": "Image option generated",
    "image.generation_failed": "Image option failed (not stored)",
    "image.rated": "Image rated",
    "image.selected": "Image selected for a SKU",
    "image.edited": "Image edited (a new version)",
    "image.rendered": "Renditions made for the channels",
    "package.images_attached": "Renditions attached to a package (a new version)",
}


class VisualsConfig(AppConfig):
    name = "signoff.visuals"
    label = "visuals"

    def ready(self) -> None:
        from signoff.audit.registry import register_action
        from signoff.briefs import hooks
        from signoff.visuals.generation import image_cost
        from signoff.visuals.references import on_brief_added, reference_hashes

        for name, label in ACTIONS.items():
            register_action(name, label)
        if on_brief_added not in hooks.brief_version_added:
            hooks.brief_version_added.append(on_brief_added)
            hooks.approval_facts.append(lambda brief: {"references": reference_hashes(brief)})
            hooks.brief_spend.append(image_cost)

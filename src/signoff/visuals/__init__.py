"""Visual assets: references, generated and edited image versions, selection, renditions."""

"""Small display filters for the web screens (they only format; autoescape still applies)."""

from django import template

register = template.Library()


@register.filter
def words(value: object) -> str:
    """Return a stored name as words: ``in_review`` -> ``in review``."""
    return str(value).replace("_", " ")

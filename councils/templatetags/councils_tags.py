from django import template

from councils.models import Role

register = template.Library()


@register.filter
def role_label(value: str) -> str:
    """The name of a role ("committee" -> "Committee member"); an unknown value as it is."""
    return Role(value).label if value in Role.values else value

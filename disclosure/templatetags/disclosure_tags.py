from django import template

from disclosure.privacy import mask_name as _mask_name

register = template.Library()


@register.filter
def mask_name(value: str) -> str:
    """王小英 -> 王*英: how names on welfare lists are shown in public."""
    return _mask_name(value)


@register.filter
def short_hash(value: str) -> str:
    return f"{value[:12]}…{value[-6:]}" if value else ""

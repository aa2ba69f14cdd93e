"""Template helpers of the public pages."""

from django import template

from memo_registry.lib.masking import mask_in_text
from memo_registry.services.memos import current_list as _current_list

register = template.Library()


@register.simple_tag(takes_context=True)
def current_list(context):
    """The current responsibility list (read once per request), for the page header."""
    return _current_list(context.get("request"))


@register.filter
def mask_identity(text) -> str:
    """An address as the page may echo it: identity numbers masked."""
    return mask_in_text(str(text))

"""Template helpers of the counter intake screen."""

from __future__ import annotations

from django import template

from motcua.printing.fmt import money as _money

register = template.Library()


@register.filter
def money(amount) -> str:
    """Whole VND as the forms write it: ``50000`` → "50.000 đồng"."""
    try:
        return _money(int(amount))
    except (TypeError, ValueError):
        return ""

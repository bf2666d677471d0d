"""Template helpers of the officers' working pages (inbox, dossier, return desk, registers)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def officer(user) -> str:
    """An officer's full name (Vietnamese order), else their user name; the system for none."""
    if user is None:
        return _("Hệ thống")
    return user.get_full_name() or user.get_username()


@register.filter
def money(amount) -> str:
    """``1500000`` → ``1.500.000`` (Vietnamese thousands separator)."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    return f"{value:,}".replace(",", ".")

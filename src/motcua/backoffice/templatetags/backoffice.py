"""Template helpers of the back office."""

from __future__ import annotations

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def described_widget(field: BoundField) -> str:
    """The field's widget, pointing at its help text and error message for screen readers
    (``aria-describedby``) and flagged ``aria-invalid`` when it has an error.

    Used by ``backoffice/_field.html``::

        {% include "backoffice/_field.html" with field=form.x %}
    """
    ids = []
    attrs = {}
    if field.help_text:
        ids.append(f"{field.auto_id}_help")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return field.as_widget(attrs=attrs)

"""The catalogue's search form: a plain GET form that works without JavaScript."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import OnlineMode

LEVEL_CHOICES = [
    ("", _("Tất cả các cấp")),
    ("province", _("Cấp tỉnh")),
    ("commune", _("Cấp xã")),
]
ONLINE_CHOICES = [
    ("", _("Tất cả")),
    (OnlineMode.FULL, _("Toàn trình")),
    (OnlineMode.PARTIAL, _("Một phần")),
    (OnlineMode.NONE, _("Không trực tuyến")),
]


class CatalogueFilterForm(forms.Form):
    """Search text plus filters; field and agency choices come from the database."""

    q = forms.CharField(label=_("Tìm thủ tục"), max_length=200, required=False)
    field = forms.ChoiceField(label=_("Lĩnh vực"), required=False)
    level = forms.ChoiceField(label=_("Cấp thực hiện"), choices=LEVEL_CHOICES, required=False)
    online_mode = forms.ChoiceField(
        label=_("Dịch vụ công trực tuyến"), choices=ONLINE_CHOICES, required=False
    )
    agency = forms.ChoiceField(label=_("Cơ quan thực hiện"), required=False)

    def __init__(self, *args, fields=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", _("Tất cả lĩnh vực"))] + [
            (str(value), label) for value, label in fields
        ]
        self.fields["agency"].choices = [("", _("Tất cả cơ quan"))] + [
            (value, label) for value, label in agencies
        ]

    def valid_filters(self) -> tuple[dict[str, str], list[str]]:
        """Return the filters that are valid and the labels of those that are not.

        An unknown filter value (an old link, a hand-edited URL) must not break the page: it is
        dropped and the page says so, the other filters still apply.
        """
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        invalid = [str(self.fields[name].label) for name in self.errors]
        values = {name: cleaned.get(name) or "" for name in self.fields if name not in self.errors}
        return values, invalid

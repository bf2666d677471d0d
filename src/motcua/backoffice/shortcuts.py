"""Small helpers for back-office views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .access import Page


def placeholder(request: HttpRequest, title: str, *, section: Page | None = None) -> HttpResponse:
    """A page that is not built yet: its heading and "Đang xây dựng" in the full layout."""
    if section is not None:
        request.backoffice_section = section
    return render(request, "backoffice/placeholder.html", {"title": title})

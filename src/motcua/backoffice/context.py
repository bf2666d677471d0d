"""The officer's current membership (agency × role) and what the layout needs to show it.

An officer may hold several memberships; the one chosen in the top bar is kept in the session
and every back-office view works in it::

    from motcua.backoffice.context import current_membership

    membership = current_membership(request)  # never None inside a back-office view
    membership.agency, membership.role, membership.department
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse

from motcua.accounts.models import Membership

from . import access

SESSION_KEY = "backoffice_membership"
NAMESPACE = "backoffice"


def memberships_of(user) -> list[Membership]:
    """The user's active memberships, with their agency and department, in a stable order."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(
        Membership.objects.filter(user=user, is_active=True, agency__is_active=True)
        .select_related("agency", "department")
        .order_by("agency__name", "role", "department__name", "pk")
    )


def _memberships(request: HttpRequest) -> list[Membership]:
    cached = getattr(request, "_motcua_memberships", None)
    if cached is None:
        cached = memberships_of(getattr(request, "user", None))
        request._motcua_memberships = cached
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership the officer works in: the one chosen in this session if still active,
    else the first. ``None`` when the user holds no active membership (then the back office
    refuses them before any view runs)."""
    memberships = _memberships(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.pk == chosen:
            return membership
    return memberships[0]


def choose_membership(request: HttpRequest, membership_id: int) -> Membership | None:
    """Make one of the user's active memberships the current one; ``None`` if it is not theirs."""
    for membership in _memberships(request):
        if membership.pk == membership_id:
            request.session[SESSION_KEY] = membership.pk
            return membership
    return None


def first_page_url(membership: Membership) -> str | None:
    """Where an officer in this membership starts: the first page their role allows."""
    pages = access.pages_for(membership.role)
    return reverse(f"{NAMESPACE}:{pages[0]}") if pages else None


@dataclass(frozen=True)
class NavItem:
    page: access.Page
    label: str
    url: str
    current: bool


@dataclass
class Backoffice:
    """What ``backoffice/base.html`` shows: the officer, their memberships and navigation."""

    membership: Membership | None
    memberships: list[Membership] = field(default_factory=list)
    nav: list[NavItem] = field(default_factory=list)
    read_only: bool = False


def in_backoffice(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and NAMESPACE in match.namespaces


def build(request: HttpRequest) -> Backoffice:
    membership = current_membership(request)
    if membership is None:
        return Backoffice(membership=None)
    match = request.resolver_match
    here = match.url_name if match is not None else None
    # The dossier page belongs to the inbox in the navigation.
    section = getattr(request, "backoffice_section", None) or here
    nav = [
        NavItem(
            page=page,
            label=str(access.PAGE_LABELS[page]),
            url=reverse(f"{NAMESPACE}:{page}"),
            current=section == page,
        )
        for page in access.pages_for(membership.role)
    ]
    return Backoffice(
        membership=membership,
        memberships=_memberships(request),
        nav=nav,
        read_only=access.is_read_only(membership.role),
    )


def backoffice(request: HttpRequest) -> dict:
    """Template context processor: ``bo`` on back-office pages only (costs nothing elsewhere)."""
    if not in_backoffice(request) or not getattr(request, "user", None):
        return {}
    if not request.user.is_authenticated:
        return {}
    return {"bo": build(request)}

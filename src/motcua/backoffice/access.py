"""Who may open which back-office page: the pages, the roles that reach each, and the rule of
the second factor. Pure rules over ``Role`` values; the middleware applies them.

One table (``PAGES_BY_ROLE``) decides both the navigation and the access check, so a menu
item is shown exactly when its page would open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import pgettext_lazy

from motcua.accounts.models import Membership, Role


class Page(StrEnum):
    """A back-office page with a place in the navigation; the value is its URL name."""

    INTAKE = "intake"
    INBOX = "inbox"
    RETURN_DESK = "return_desk"
    REGISTERS = "registers"
    MONITORING = "monitoring"
    VIOLATIONS = "violations"


# Navigation order, labels and page headings. A context of their own: "Tiếp nhận hồ sơ" is
# also the name of an action on a dossier, which English words differently.
PAGE_LABELS: dict[Page, str] = {
    Page.INTAKE: pgettext_lazy("back-office page", "Tiếp nhận hồ sơ"),
    Page.INBOX: pgettext_lazy("back-office page", "Hồ sơ cần xử lý"),
    Page.RETURN_DESK: pgettext_lazy("back-office page", "Trả kết quả"),
    Page.REGISTERS: pgettext_lazy("back-office page", "Sổ theo dõi"),
    Page.MONITORING: pgettext_lazy("back-office page", "Giám sát, đánh giá"),
    Page.VIOLATIONS: pgettext_lazy("back-office page", "Vi phạm"),
}

PAGES_BY_ROLE: dict[str, tuple[Page, ...]] = {
    # The desk's inbox lists online submissions to receive, supplements and payments awaited.
    # Every agency role sees (and may explain) its own agency's violations.
    Role.COUNTER_OFFICER: (
        Page.INTAKE,
        Page.INBOX,
        Page.RETURN_DESK,
        Page.REGISTERS,
        Page.VIOLATIONS,
    ),
    Role.SPECIALIST: (Page.INBOX, Page.VIOLATIONS),
    # Leaders read their agencies' figures (monitoring.queries.readable_agencies).
    Role.LEADER: (Page.INBOX, Page.MONITORING, Page.VIOLATIONS),
    # Clerks number and seal results: the last processing step of many procedures (inbox).
    Role.CLERK: (Page.RETURN_DESK, Page.INBOX, Page.REGISTERS, Page.VIOLATIONS),
    # The monitoring centre starts on its dashboard.
    Role.MONITOR: (Page.MONITORING, Page.VIOLATIONS, Page.INBOX, Page.REGISTERS),
    # Administrators configure the system in /admin/; in the back office they read like monitors.
    Role.ADMINISTRATOR: (Page.INBOX, Page.REGISTERS, Page.MONITORING, Page.VIOLATIONS),
}

# Roles that see dossiers but never act on them.
READ_ONLY_ROLES = frozenset({Role.MONITOR, Role.ADMINISTRATOR})

# Holding one of these (active) memberships makes the second factor compulsory.
OTP_ROLES = frozenset({Role.LEADER, Role.ADMINISTRATOR})


def pages_for(role: str) -> tuple[Page, ...]:
    """The pages a membership in ``role`` may open, in navigation order."""
    return PAGES_BY_ROLE.get(role, ())


def allows(role: str, page: Page) -> bool:
    return page in pages_for(role)


def is_read_only(role: str) -> bool:
    """Monitors (and administrators) see the inbox and registers but take no action."""
    return role in READ_ONLY_ROLES


def requires_otp(user) -> bool:
    """Superusers, staff and holders of an active leader or administrator membership need a
    TOTP code after their password. Cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(user, "_motcua_requires_otp", None)
    if cached is None:
        # Staff open the Django admin, which asks them for the code too (core.admin_site).
        cached = (
            user.is_superuser
            or user.is_staff
            or Membership.objects.filter(user=user, is_active=True, role__in=OTP_ROLES).exists()
        )
        user._motcua_requires_otp = cached
    return cached


@dataclass(frozen=True)
class Access:
    """What a back-office view demands; set on the view by the decorators below.

    ``public``: anyone (sign-in pages handle their own state). Otherwise the user must be
    signed in, hold an active membership and, if ``requires_otp``, have passed the second
    factor; ``pages`` (when not empty) are the pages whose roles may open the view.
    """

    public: bool = False
    pages: tuple[Page, ...] = ()


ACCESS_ATTRIBUTE = "backoffice_access"


def _mark(access: Access) -> Callable:
    def decorate(view: Callable) -> Callable:
        setattr(view, ACCESS_ATTRIBUTE, access)
        return view

    return decorate


def officer_view(*pages: Page) -> Callable:
    """Mark a back-office view as open to signed-in officers whose current role allows one of
    ``pages`` (any officer with an active membership when no page is given).

    Every view in the ``backoffice`` URL namespace must carry this or ``public_view``: the
    middleware refuses views without either (fail closed).
    """
    return _mark(Access(pages=tuple(pages)))


def public_view(view: Callable) -> Callable:
    """Mark a back-office view as reachable without signing in (sign-in, second factor)."""
    return _mark(Access(public=True))(view)


def access_of(view: Callable) -> Access | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)

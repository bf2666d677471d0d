"""The channels: e-mail, SMS, Zalo — plugins in a registry (``motcua.core.registry``).

A channel knows where an applicant is reached on it, how an address is checked, how its
message is written (which templates, how long, with or without diacritics) and which provider
carries it (a dotted path in the settings, see ``providers.py``). Adding a channel is one more
registered class here or in another app, plus a field of ``NotificationPreference``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.template import Context, engines
from django.utils import translation

from motcua.core import codes
from motcua.core.registry import Registry, RegistryError, import_string
from motcua.core.text import without_marks

from .providers import PermanentFailure, Provider


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str = ""


_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# SMS text without diacritics (160 characters a part instead of 70).
without_diacritics = without_marks


def one_line(text: str) -> str:
    return " ".join(text.split())


def tidy(text: str) -> str:
    """Trim each line, at most one blank line in a row (templates leave white space)."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines))


def render(template: str, context: dict[str, Any]) -> str:
    """Render one of our templates in Vietnamese; HTML is escaped, plain text is not."""
    engine = engines["django"].engine  # type: ignore[attr-defined]
    with translation.override(settings.LANGUAGE_CODE):
        return engine.get_template(template).render(
            Context(dict(context), autoescape=template.endswith(".html"))
        )


class Channel:
    """The contract of a channel plugin."""

    identifier = ""
    label: Any = ""

    def address(self, applicant) -> str:
        """Where ``applicant`` is reached on this channel ('' if unknown)."""
        raise NotImplementedError

    def normalize(self, address: str) -> str:
        """The address in the form the provider wants; ``PermanentFailure`` if invalid."""
        raise NotImplementedError

    def compose(self, kind: str, context: dict[str, Any]) -> Content:
        raise NotImplementedError

    def provider(self) -> Provider:
        """The provider named in the settings, built with the channel's options."""
        name = self.identifier.upper()
        path = getattr(settings, f"MOTCUA_NOTIFY_{name}_PROVIDER", "")
        options = getattr(settings, f"MOTCUA_NOTIFY_{name}_OPTIONS", None) or {}
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except ValueError as exc:
                raise ImproperlyConfigured(f"MOTCUA_NOTIFY_{name}_OPTIONS: {exc}") from exc
        if not isinstance(options, dict):
            raise ImproperlyConfigured(f"MOTCUA_NOTIFY_{name}_OPTIONS: not a JSON object")
        try:
            cls = import_string(path)
        except RegistryError as exc:
            raise ImproperlyConfigured(f"MOTCUA_NOTIFY_{name}_PROVIDER: {exc}") from exc
        provider = cls(**options)
        if not isinstance(provider, Provider):
            raise ImproperlyConfigured(
                f"MOTCUA_NOTIFY_{name}_PROVIDER: {path} is not a motcua.notifications Provider"
            )
        return provider


channels: Registry[Channel] = Registry("kênh thông báo", contract=Channel)


@channels.register("email")
class EmailChannel(Channel):
    label = "Thư điện tử"

    def address(self, applicant) -> str:
        return (applicant.email or "").strip()

    def normalize(self, address: str) -> str:
        try:
            validate_email(address)
        except ValidationError:
            raise PermanentFailure(f"Địa chỉ thư điện tử không hợp lệ: {address}") from None
        return address

    def compose(self, kind: str, context: dict[str, Any]) -> Content:
        folder = f"notifications/{kind}"
        return Content(
            subject=one_line(render(f"{folder}/subject.txt", context))[:255],
            text=tidy(render(f"{folder}/email.txt", context)) + "\n",
            html=render(f"{folder}/email.html", context).strip() + "\n",
        )


class ShortChannel(Channel):
    """A text message: one line, short; the lookup link shortened when that makes it fit."""

    limit = 160
    template = "short.txt"

    def address(self, applicant) -> str:
        return (applicant.phone or "").strip()

    def normalize(self, address: str) -> str:
        try:
            return codes.normalize_phone(address)
        except codes.InvalidCode:
            raise PermanentFailure(f"Số điện thoại di động không hợp lệ: {address}") from None

    def finish(self, text: str) -> str:
        return one_line(text)

    def compose(self, kind: str, context: dict[str, Any]) -> Content:
        name = f"notifications/{kind}/{self.template}"
        text = self.finish(render(name, context))
        if len(text) > self.limit and context.get("link") != context.get("lookup_page"):
            # The code is in the message already: the bare lookup page is enough.
            text = self.finish(render(name, {**context, "link": context.get("lookup_page")}))
        return Content(subject="", text=text)


@channels.register("sms")
class SmsChannel(ShortChannel):
    label = "Tin nhắn SMS"

    def finish(self, text: str) -> str:
        # Vietnamese with diacritics is UCS-2: 70 characters an SMS instead of 160, and most
        # brand-name gateways want it unaccented.
        text = one_line(text)
        if getattr(settings, "MOTCUA_NOTIFY_SMS_UNICODE", False):
            return text
        return without_diacritics(text)


@channels.register("zalo")
class ZaloChannel(ShortChannel):
    """Zalo (ZNS) reaches the Zalo account of a phone number; text keeps its diacritics."""

    label = "Zalo"

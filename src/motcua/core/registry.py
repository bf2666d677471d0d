"""A small typed plugin registry (the pattern of Open Forms' ``plugins/registry.py``).

An app that accepts plugins (notification channels, payment gateways, postal operators, the
national-portal sync) creates one registry with the contract every plugin must implement::

    channels: Registry[Channel] = Registry("kênh thông báo", contract=Channel)

    @channels.register("sms")
    class SmsChannel(Channel): ...

``register`` instantiates the class once (plugins hold no per-call state), gives the instance its
``identifier`` and refuses a second plugin under the same identifier or an object that does not
implement the contract. Look-ups by an unknown identifier raise ``UnknownPlugin``.

``import_string`` loads an implementation named by a dotted path in the settings
(``"motcua.notifications.providers.SandboxProvider"``), so a deployment can swap a sandbox for
a real provider without touching the code. Pure Python: no Django here.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Identifiers go into database columns and settings: short, lower-case, ASCII.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_-]{0,31}", re.ASCII)


class RegistryError(Exception):
    """A plugin cannot be registered or found."""


class DuplicatePlugin(RegistryError):
    pass


class UnknownPlugin(RegistryError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Plugins of one kind by identifier, in the order they were registered."""

    def __init__(self, kind: str, *, contract: type | None = None) -> None:
        self.kind = kind
        self.contract = contract
        self._plugins: dict[str, T] = {}

    def register(self, identifier: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: register one instance of the class under ``identifier``."""

        def decorator(cls: type[T]) -> type[T]:
            self.add(identifier, cls())
            return cls

        return decorator

    __call__ = register

    def add(self, identifier: str, plugin: T) -> T:
        """Register an instance (what ``register`` does for a class)."""
        if not isinstance(identifier, str) or not IDENTIFIER.fullmatch(identifier):
            raise RegistryError(
                f"{self.kind}: invalid identifier {identifier!r} "
                "(lower-case ASCII letter first, then letters, digits, '-' or '_', at most 32)"
            )
        if identifier in self._plugins:
            raise DuplicatePlugin(f"{self.kind}: {identifier!r} is already registered")
        if self.contract is not None and not isinstance(plugin, self.contract):
            raise RegistryError(
                f"{self.kind}: {type(plugin).__name__} does not implement {self.contract.__name__}"
            )
        # A plugin with slots or frozen attributes keeps its own name.
        with contextlib.suppress(AttributeError):
            plugin.identifier = identifier  # type: ignore[attr-defined]
        self._plugins[identifier] = plugin
        return plugin

    def remove(self, identifier: str) -> None:
        """Forget a plugin (tests, or an app that replaces a built-in one)."""
        self._plugins.pop(identifier, None)

    def get(self, identifier: str) -> T:
        try:
            return self._plugins[identifier]
        except KeyError:
            raise UnknownPlugin(f"{self.kind}: no plugin {identifier!r}") from None

    __getitem__ = get

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._plugins

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._plugins.values()))

    def __len__(self) -> int:
        return len(self._plugins)

    def identifiers(self) -> list[str]:
        return list(self._plugins)

    def choices(self) -> list[tuple[str, Any]]:
        """``(identifier, label)`` pairs for forms, from each plugin's ``label`` if it has one."""
        return [(key, getattr(p, "label", key)) for key, p in self._plugins.items()]


def import_string(path: str) -> Any:
    """The object named by ``"package.module.Name"`` (or ``"package.module:Name"``).

    Raises ``RegistryError`` with the path in the message when it cannot be loaded, so a typo in
    a setting says which setting value is wrong.
    """
    if not isinstance(path, str) or not path.strip():
        raise RegistryError(f"not a dotted path: {path!r}")
    path = path.strip()
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise RegistryError(f"not a dotted path: {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"cannot import {module_name!r} (from {path!r}): {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise RegistryError(f"{module_name!r} has no {attribute!r} (from {path!r})") from None

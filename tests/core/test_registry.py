"""The plugin registry: unique identifiers, a typed contract, dotted-path loading."""

from __future__ import annotations

import pytest

from motcua.core.registry import (
    DuplicatePlugin,
    Registry,
    RegistryError,
    UnknownPlugin,
    import_string,
)


class Gateway:
    label = "cổng"

    def pay(self) -> str:
        raise NotImplementedError


def test_register_instantiates_once_and_names_the_plugin():
    gateways: Registry[Gateway] = Registry("cổng thanh toán", contract=Gateway)

    @gateways.register("vnpay")
    class VnPay(Gateway):
        def pay(self) -> str:
            return "ok"

    plugin = gateways.get("vnpay")
    assert isinstance(plugin, VnPay)
    assert plugin.identifier == "vnpay"
    assert gateways["vnpay"] is plugin  # one instance, the same every time
    assert "vnpay" in gateways and "momo" not in gateways
    assert gateways.identifiers() == ["vnpay"] and len(gateways) == 1
    assert gateways.choices() == [("vnpay", "cổng")]


def test_plugins_keep_registration_order():
    registry: Registry[object] = Registry("x")
    for name in ("email", "sms", "zalo"):
        registry.add(name, type(name, (), {})())
    assert registry.identifiers() == ["email", "sms", "zalo"]
    assert [type(p).__name__ for p in registry] == ["email", "sms", "zalo"]


def test_a_second_plugin_under_the_same_identifier_is_refused():
    registry: Registry[Gateway] = Registry("x", contract=Gateway)
    registry.add("vnpay", Gateway())
    with pytest.raises(DuplicatePlugin, match="vnpay"):
        registry.add("vnpay", Gateway())


def test_a_plugin_that_breaks_the_contract_is_refused():
    registry: Registry[Gateway] = Registry("cổng", contract=Gateway)
    with pytest.raises(RegistryError, match="does not implement Gateway"):

        @registry.register("rogue")
        class Rogue:
            pass

    assert "rogue" not in registry


@pytest.mark.parametrize("identifier", ["", "SMS", "1sms", "sms gateway", "đ", "x" * 33, None])
def test_identifiers_are_short_lower_case_ascii(identifier):
    with pytest.raises(RegistryError):
        Registry("x").add(identifier, object())


def test_unknown_identifier_raises_unknown_plugin_that_is_a_key_error():
    registry: Registry[object] = Registry("kênh")
    with pytest.raises(UnknownPlugin, match="kênh: no plugin 'fax'"):
        registry.get("fax")
    with pytest.raises(KeyError):
        registry["fax"]


def test_remove_forgets_a_plugin():
    registry: Registry[object] = Registry("x")
    registry.add("a", Gateway())
    registry.remove("a")
    registry.remove("a")  # twice is fine
    assert "a" not in registry


def test_import_string_loads_dotted_and_colon_paths():
    assert import_string("motcua.core.registry.Registry") is Registry
    assert import_string("motcua.core.registry:import_string") is import_string


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "not a dotted path"),
        ("Registry", "not a dotted path"),
        ("motcua.core.nowhere.Thing", "cannot import 'motcua.core.nowhere'"),
        ("motcua.core.registry.Nothing", "has no 'Nothing'"),
    ],
)
def test_import_string_names_the_bad_path(path, message):
    with pytest.raises(RegistryError, match=message):
        import_string(path)

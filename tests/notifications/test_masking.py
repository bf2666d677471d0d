"""Recipients in lists: never the whole address, never the last 4 digits of a phone."""

from __future__ import annotations

import pytest

from motcua.notifications.masking import mask_email, mask_recipient


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("nguyenthihang@gmail.com", "***ang@gmail.com"),
        ("hang@example.invalid", "***ng@example.invalid"),
        ("an@x.vn", "***n@x.vn"),
        ("a@x.vn", "***@x.vn"),
        ("not-an-address", "***"),
        ("a@b@c", "***"),
        ("@x.vn", "***"),
        ("x@", "***"),
        (None, "***"),
    ],
)
def test_email_keeps_at_most_three_characters_of_the_local_part(address, masked):
    assert mask_email(address) == masked


def test_the_mask_does_not_reveal_the_length_of_the_local_part():
    assert mask_email("abcdefgh@x.vn") == "***fgh@x.vn"
    assert mask_email("zzzzzzzzzzzzfgh@x.vn") == "***fgh@x.vn"


def test_phones_never_show_the_lookup_second_factor():
    # The last 4 digits open the public lookup's timeline: only 2 are shown.
    assert mask_recipient("sms", "0912345678") == "091*****78"
    assert mask_recipient("zalo", "+84 912 345 678") == "091*****78"
    assert "5678" not in mask_recipient("sms", "0912345678")


def test_empty_recipient_masks_to_nothing():
    assert mask_recipient("email", "") == ""
    assert mask_recipient("email", "hang@example.invalid") == "***ng@example.invalid"

"""Vietnamese text folding for search."""

from __future__ import annotations

import unicodedata

import pytest

from motcua.core.text import fold, nfc, search_terms


def test_fold_drops_diacritics_and_lower_cases():
    assert fold("Đăng ký khai sinh") == "dang ky khai sinh"


@pytest.mark.parametrize(("text", "folded"), [("đ", "d"), ("Đ", "d"), ("ĐƯỜNG ĐI", "duong di")])
def test_fold_turns_d_with_stroke_into_d(text, folded):
    assert fold(text) == folded


def test_fold_gives_the_same_result_for_nfc_and_nfd_input():
    text = "Cấp giấy chứng nhận quyền sử dụng đất, Đồng Tháp"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert fold(decomposed) == fold(text) == "cap giay chung nhan quyen su dung dat, dong thap"


def test_fold_collapses_all_white_space():
    assert fold("  Thủ tục\t\tHÀNH\u00a0chính \n") == "thu tuc hanh chinh"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_fold_of_nothing_is_empty(text):
    assert fold(text) == ""


def test_nfc_composes_decomposed_text():
    composed = "Hộ tịch"
    assert nfc(unicodedata.normalize("NFD", composed)) == composed
    assert nfc(None) == ""


def test_search_terms_are_folded_words():
    assert search_terms("  Đăng   KÝ kết hôn ") == ["dang", "ky", "ket", "hon"]
    assert search_terms(unicodedata.normalize("NFD", "khai sinh")) == ["khai", "sinh"]
    assert search_terms(None) == []

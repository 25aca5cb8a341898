"""GB 45438 §5 wording rule: both elements, presets, resolution."""

from __future__ import annotations

import pytest

from aigc_tag.errors import InvalidLabel
from aigc_tag.visible.wording import (
    DEFAULT_TEXT,
    PRESETS,
    check_wording,
    has_both_elements,
    resolve_text,
)

VALID = [
    "AI生成",
    "AI合成",
    "人工智能生成",
    "人工智能合成",
    "本内容由人工智能生成",
    "由AI生成",
    "人工智能生成合成",
    "豆包AI生成",
    "ＡＩ生成",  # full-width, NFKC-normalised
    "AIGC生成",
    "AI生成中文内容",
    "图片由AI合成。",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_wording(text: str) -> None:
    check_wording(text)
    assert has_both_elements(text)


@pytest.mark.parametrize(
    ("text", "element"),
    [
        ("智枢生成", "AI element"),
        ("生成失败", "AI element"),
        ("PAID生成", "AI element"),
        ("ai生成", "AI element"),
        ("Said合成", "AI element"),
        ("智枢AI", "generation element"),
        ("AI-generated", "generation element"),
        ("人工智能", "generation element"),
        ("hello", "AI element"),
    ],
)
def test_missing_element_is_named(text: str, element: str) -> None:
    with pytest.raises(InvalidLabel, match=element):
        check_wording(text)
    assert not has_both_elements(text)


def test_both_elements_missing_names_both() -> None:
    with pytest.raises(InvalidLabel) as info:
        check_wording("智枢")
    assert "AI element" in str(info.value) and "generation element" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "AI生成失败",
        "人工智能合成错误",
        "非AI生成",
        "不是人工智能生成",
        "未经AI合成",
        "AI生成中",
        "not AI生成",
    ],
)
def test_negations_and_errors_rejected(text: str) -> None:
    with pytest.raises(InvalidLabel, match="negates or reports a failure"):
        check_wording(text)
    assert not has_both_elements(text)


@pytest.mark.parametrize("text", ["", "   ", "AI生成\x00", "AI生成" * 20])
def test_hygiene(text: str) -> None:
    with pytest.raises(InvalidLabel):
        check_wording(text)


def test_presets_are_valid() -> None:
    assert PRESETS["zh"] == "AI生成"
    assert PRESETS["bilingual"] == "AI生成 / AI-generated"
    assert PRESETS["zh-long"] == "本内容由人工智能生成"
    for text in PRESETS.values():
        check_wording(text)


def test_resolve_text() -> None:
    assert resolve_text(None) == DEFAULT_TEXT == "AI生成"
    assert resolve_text("bilingual") == "AI生成 / AI-generated"
    assert resolve_text("由AI合成") == "由AI合成"
    with pytest.raises(InvalidLabel, match="generation element"):
        resolve_text("AI")

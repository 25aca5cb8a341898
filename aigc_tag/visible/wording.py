"""GB 45438 §5 wording rule for explicit (visible) labels.

A label needs both elements: the *AI element* ("人工智能" or "AI") and the *generation element*
("生成" and/or "合成"). A brand may be added but cannot replace an element, so "智枢生成" and
"智枢AI" both fail. Text is NFKC-normalised before checking, so full-width "ＡＩ" counts as "AI".

"AI" must be upper-case and stand as a token: not glued to other Latin letters ("PAID", "Said"
do not count), except the common acronym "AIGC". Strings that deny or report a failure
("生成失败", "非AI生成", "未经人工智能合成") contain the words but say the opposite; they are
rejected.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InvalidLabel

__all__ = [
    "ANCHORS",
    "DEFAULT_TEXT",
    "GB_MIN_RATIO",
    "POSITIONS",
    "PRESETS",
    "TEXT_PRESETS",
    "check_wording",
    "has_both_elements",
    "resolve_text",
    "wording_problem",
]

#: Ready-made label texts, all compliant. Keys are what ``resolve_text`` accepts.
PRESETS: dict[str, str] = {
    "zh": "AI生成",
    "zh-synth": "AI合成",
    "zh-long": "本内容由人工智能生成",
    "zh-long-synth": "本内容由人工智能合成",
    "zh-full": "人工智能生成合成",
    "bilingual": "AI生成 / AI-generated",
    "bilingual-long": "本内容由人工智能生成 / AI-generated content",
}
DEFAULT_TEXT = PRESETS["zh"]
#: Label lines for AI-written *text* (aigc_tag.text): a full sentence reads better than a caption.
#: "bilingual" here is the long form; the image preset of the same name stays the short caption.
TEXT_PRESETS: dict[str, str] = {
    "zh-long": PRESETS["zh-long"],
    "zh-long-synth": PRESETS["zh-long-synth"],
    "zh-prefix": "以下内容由人工智能生成",
    "bilingual": "本内容由人工智能生成 / AI-generated",
    "bilingual-long": PRESETS["bilingual-long"],
}
DEFAULT_TEXT_LABEL = TEXT_PRESETS["zh-long"]
MAX_LENGTH = 64  # a caption, not a paragraph: long text cannot keep 5 % glyphs on small images

_AI_TOKEN = re.compile(r"(?<![A-Za-z])AI(?:GC)?(?![A-Za-z])")
_AI_ELEMENT = re.compile(rf"人工智能|{_AI_TOKEN.pattern}")
_GEN_ELEMENT = re.compile(r"生成|合成")
# Negation right before an element, or failure/progress words right after 生成/合成.
_NEGATED = re.compile(
    rf"(?:非|不是|并非|并不是|不属于|未经?|没有|无)(?:由|经)?(?:{_AI_ELEMENT.pattern}|生成|合成)"
)
# "生成中" (in progress) only at a word end: "AI生成中文内容" is a valid label.
_FAILED = re.compile(r"(?:生成|合成)(?:失败|错误|出错|异常|中断|超时|未完成|中(?![\u4e00-\u9fff]))")
_NEGATED_EN = re.compile(r"(?<![A-Za-z])(?:not|non|no)[\s-]+AI(?![A-Za-z])", re.I)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def wording_problem(text: str) -> str | None:
    """Why ``text`` is not a GB 45438 label, or ``None`` when it is one."""
    if not isinstance(text, str) or not text.strip():
        return "label text is empty"
    if len(text) > MAX_LENGTH:
        return f"label text is {len(text)} characters; keep it to {MAX_LENGTH} or fewer"
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c)[0] == "C"})
    if bad:
        return f"label text contains control or unassigned characters: {', '.join(bad)}"
    norm = _normalise(text)
    missing = []
    if not _AI_ELEMENT.search(norm):
        hint = (
            " (lower-case 'ai' or 'AI' inside a word does not count)"
            if "ai" in norm.lower()
            else ""
        )
        missing.append(f"the AI element ('人工智能' or 'AI'){hint}")
    if not _GEN_ELEMENT.search(norm):
        missing.append("the generation element ('生成' or '合成')")
    if missing:
        return f"label text {text!r} lacks " + " and ".join(missing) + " (GB 45438 §5)"
    for pattern in (_NEGATED, _FAILED, _NEGATED_EN):
        m = pattern.search(norm)
        if m:
            return f"label text {text!r} negates or reports a failure ({m.group(0)!r}), not a label"
    return None


def check_wording(text: str) -> None:
    """Raise :class:`InvalidLabel` naming the missing element unless ``text`` is a valid label."""
    problem = wording_problem(text)
    if problem:
        raise InvalidLabel(problem)


def has_both_elements(text: str) -> bool:
    """True when ``text`` carries both elements and does not negate them (for the verifier)."""
    return wording_problem(text) is None


def resolve_text(text_or_preset: str | None = None) -> str:
    """Label text for a preset name, a custom text (checked), or ``None`` (the default "AI生成")."""
    if text_or_preset is None:
        return DEFAULT_TEXT
    if text_or_preset in PRESETS:
        return PRESETS[text_or_preset]
    check_wording(text_or_preset)
    return text_or_preset


# position -> (vertical, horizontal) anchor; the horizontal part also aligns wrapped lines.
ANCHORS = {
    "top-left": ("top", "left"),
    "top": ("top", "center"),
    "top-right": ("top", "right"),
    "left": ("middle", "left"),
    "right": ("middle", "right"),
    "bottom-left": ("bottom", "left"),
    "bottom": ("bottom", "center"),
    "bottom-right": ("bottom", "right"),
}
POSITIONS = tuple(ANCHORS)
GB_MIN_RATIO = 0.05  # GB 45438 §5.2: glyph height >= 5 % of the shortest side

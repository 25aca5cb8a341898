"""The GB 45438-2025 Annex E record: one frozen dataclass, its JSON, strict and lenient parsing.

Strict rules (what we write): the seven keys in Annex E order, all values strings, ``Label`` in
{"1","2","3"}, values from the Annex E j) character set. Lenient parsing (what we read) accepts the
variants real producers emit -- the bare inner object, numeric ``Label``, misspelled or mis-cased
keys, names instead of codes -- and records every repair as a note so the verifier can report it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field, replace

from .errors import InvalidLabel

__all__ = [
    "FIELDS",
    "AIGCLabel",
    "ParsedLabel",
    "check_provider_code",
    "charset_problems",
    "new_produce_id",
    "parse_label",
    "uscc_check_digit",
]

#: Annex E keys, in the order the standard lists them (and we write them).
FIELDS: tuple[str, ...] = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
REQUIRED_NONEMPTY = ("Label", "ContentProducer", "ProduceID")
LABEL_VALUES = {"1": "is AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}

# Annex E j): 0x21, 0x23-0x5B, 0x5D-0x7E (printable ASCII without space, '"' and '\').
_ANNEX_E_CHARS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]*")
_PROVIDER_CODE = re.compile(r"^00[0-9A-Z]{25}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# GB 32100-2015: the USCC alphabet has no I, O, Z, S, V.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class AIGCLabel:
    """The seven Annex E elements. Every value is a string, as Annex E c)-i) require."""

    Label: str = "1"
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    @classmethod
    def for_producer(
        cls, producer: str, produce_id: str | None = None, *, label: str = "1"
    ) -> AIGCLabel:
        """A first-write label: propagation elements equal the production ones (Annex E Note 1)."""
        pid = produce_id or new_produce_id()
        return cls(
            Label=label,
            ContentProducer=producer,
            ProduceID=pid,
            ContentPropagator=producer,
            PropagateID=pid,
        )

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def validate(self) -> list[str]:
        """Raise :class:`InvalidLabel` on what Annex E forbids; return warnings for the rest."""
        problems: list[str] = []
        for key in REQUIRED_NONEMPTY:
            if not getattr(self, key):
                problems.append(f"{key} must not be empty")
        if self.Label not in LABEL_VALUES:
            problems.append(f"Label must be one of 1, 2, 3 (got {self.Label!r})")
        for key in FIELDS:
            value = getattr(self, key)
            if not isinstance(value, str):
                problems.append(f"{key} must be a string")
            elif _CONTROL_CHARS.search(value):
                problems.append(f"{key} contains control characters")
        if problems:
            raise InvalidLabel("; ".join(problems))
        warnings = []
        for key in FIELDS:
            warnings += [f"{key}: {p}" for p in charset_problems(getattr(self, key))]
        return warnings

    def to_json(self, *, wrapped: bool = True) -> str:
        """Compact Annex E JSON (validated); ``wrapped`` adds the outer ``{"AIGC": ...}``."""
        self.validate()
        inner = {key: getattr(self, key) for key in FIELDS}
        obj = {"AIGC": inner} if wrapped else inner
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    def with_fields(self, **changes: str) -> AIGCLabel:
        return replace(self, **changes)


def new_produce_id() -> str:
    """A unique content number: a random UUID (Annex E charset-safe)."""
    return str(uuid.uuid4())


def has_control_chars(value: str) -> bool:
    return _CONTROL_CHARS.search(value) is not None


def charset_problems(value: str) -> list[str]:
    """Annex E j) says values are *mainly* from the restricted ASCII set: report, do not fail."""
    if _ANNEX_E_CHARS.fullmatch(value):
        return []
    # In the order they occur, each once: sorted code points would scramble 中文平台 into 中台平文.
    bad = list(dict.fromkeys(c for c in value if not _ANNEX_E_CHARS.fullmatch(c)))
    more = f" and {len(bad) - 8} more" if len(bad) > 8 else ""
    return [f"characters outside Annex E j) set: {''.join(bad[:8])!r}{more}"]


def uscc_check_digit(first17: str) -> str | None:
    """GB 32100 check character for the first 17 USCC characters, or None if not USCC chars."""
    try:
        values = [_USCC_ALPHABET.index(c) for c in first17]
        total = sum(v * w for v, w in zip(values, _USCC_WEIGHTS, strict=False))
    except ValueError:
        return None
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def check_provider_code(code: str, *, role: str = "producer") -> list[str]:
    """Problems with a PG-20252A provider code (empty list: a well-formed code).

    ``role`` is ``producer`` (service digit 1) or ``propagator`` (service digit 2).
    """
    if not _PROVIDER_CODE.match(code):
        return ["not a PG-20252A code (27 characters: 00 + 25 digits/upper-case letters)"]
    problems = []
    if code[2:4] == "11":
        uscc = code[4:22]
        if uscc_check_digit(uscc[:17]) != uscc[17]:
            problems.append(f"USCC {uscc} has a wrong check digit (GB 32100)")
    expected = "1" if role == "producer" else "2"
    if code[22] not in "12":
        problems.append(f"service type digit (position 23) is {code[22]!r}, expected 1 or 2")
    elif role == "producer" and code[22] != expected:
        problems.append("service type digit is 2 (propagation) in a producer code")
    return problems


# --- parsing ------------------------------------------------------------------------------

# Misspellings seen in real files and public docs, mapped to the Annex E key.
_KEY_ALIASES = {
    "lable": "Label",
    "labels": "Label",
    "contentproductor": "ContentProducer",
    "contentproducter": "ContentProducer",
    "producer": "ContentProducer",
    "produceid": "ProduceID",
    "producerid": "ProduceID",
    "productid": "ProduceID",
    "produceld": "ProduceID",
    "reservedcode1": "ReservedCode1",
    "reservecode1": "ReservedCode1",
    "contentpropagater": "ContentPropagator",
    "contentpropagator": "ContentPropagator",
    "propagator": "ContentPropagator",
    "propagateid": "PropagateID",
    "propagateld": "PropagateID",
    "propagationid": "PropagateID",
    "reservedcode2": "ReservedCode2",
    "reservecode2": "ReservedCode2",
}
_NORMALISED_FIELDS = {re.sub(r"[^a-z0-9]", "", k.lower()): k for k in FIELDS}


@dataclass
class ParsedLabel:
    """What the lenient parser made of one raw value.

    ``fields`` holds the seven keys that were recognised (values coerced to strings), ``strict``
    tells whether the raw value already met Annex E exactly, ``notes`` lists every repair and
    ``form`` is ``wrapped`` or ``bare``.
    """

    fields: dict[str, str] | None
    form: str = ""
    strict: bool = False
    notes: list[str] = field(default_factory=list)
    extra_keys: list[str] = field(default_factory=list)
    numeric_label: bool = False
    duplicate_keys: list[str] = field(default_factory=list)
    error: str | None = None

    def label(self) -> AIGCLabel | None:
        if self.fields is None:
            return None
        return AIGCLabel(**{k: self.fields.get(k, "") for k in FIELDS})


def _pairs_hook(dups: list[str]):
    def hook(pairs):
        seen: dict = {}
        for key, value in pairs:
            if key in seen:
                dups.append(key)
            seen[key] = value
        return seen

    return hook


def _canonical_key(key: str) -> str | None:
    if key in FIELDS:
        return key
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return _NORMALISED_FIELDS.get(norm) or _KEY_ALIASES.get(norm)


def _decode_json(text: str) -> tuple[object, list[str], list[str]]:
    """JSON with duplicate-key detection; falls back to a lenient repair pass."""
    dups: list[str] = []
    notes: list[str] = []
    try:
        return json.loads(text, object_pairs_hook=_pairs_hook(dups)), dups, notes
    except json.JSONDecodeError as first:
        # Real-world repairs: HTML-entity-escaped JSON, single quotes, a trailing NUL/garbage.
        import html

        repaired = html.unescape(text).strip().rstrip("\x00").strip()
        end = repaired.rfind("}")
        if end >= 0:
            repaired = repaired[: end + 1]
        if repaired.count('"') == 0 and "'" in repaired:
            repaired = repaired.replace("'", '"')
        try:
            obj = json.loads(repaired, object_pairs_hook=_pairs_hook(dups))
        except json.JSONDecodeError:
            raise first from None
        notes.append("value is not strict JSON; parsed after repair")
        return obj, dups, notes


def parse_label(raw: str | bytes) -> ParsedLabel:
    """Parse one label value leniently; never raises for bad content (see ``error``)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    else:
        text = raw
    stripped = text.strip().strip("\x00").strip()
    prefix_notes = []
    # A bare ``AIGC{...}`` blob (seen in JPEG APP segments) is the wrapped form without quotes.
    if stripped.startswith("AIGC{") or stripped.startswith("AIGC:{"):
        stripped = stripped[stripped.index("{") :]
        prefix_notes.append("bare AIGC{...} blob without the JSON wrapper")
    try:
        obj, dups, notes = _decode_json(stripped)
    except json.JSONDecodeError as exc:
        return ParsedLabel(None, error=f"not valid JSON: {exc.msg} at position {exc.pos}")
    except RecursionError:  # hostile nesting ([[[[...), found by fuzz/run.py --target label
        return ParsedLabel(None, error="not valid JSON: nested too deeply")
    notes = prefix_notes + notes
    if not isinstance(obj, dict):
        return ParsedLabel(None, error="JSON value is not an object")
    form = "bare"
    if len(obj) == 1 and isinstance(next(iter(obj.values())), dict):
        wrapper = next(iter(obj))
        if wrapper != "AIGC":
            notes.append(f"wrapper key is {wrapper!r}, not 'AIGC'")
        obj = next(iter(obj.values()))
        form = "wrapped"
    return _fields_from_object(obj, form, notes, dups)


def _fields_from_object(obj: dict, form: str, notes: list[str], dups: list[str]) -> ParsedLabel:
    fields: dict[str, str] = {}
    extra: list[str] = []
    numeric = False
    for key, value in obj.items():
        canon = _canonical_key(str(key))
        if canon is None:
            extra.append(str(key))
            continue
        if canon != key:
            notes.append(f"key {key!r} read as {canon!r}")
        if canon in fields:
            dups.append(canon)
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            notes.append(f"{canon} is {type(value).__name__}, not a string")
            value = "" if value is None else json.dumps(value)
        elif isinstance(value, (int, float)):
            numeric = numeric or canon == "Label"
            notes.append(f"{canon} is the number {value}, not a string")
            value = str(value)
        fields[canon] = value
    if not fields:
        return ParsedLabel(None, form=form, error="no Annex E keys in the object", extra_keys=extra)
    strict = (
        not notes
        and not extra
        and not dups
        and list(fields) == list(FIELDS)
        and fields.get("Label") in LABEL_VALUES
    )
    return ParsedLabel(
        fields,
        form=form,
        strict=strict,
        notes=notes,
        extra_keys=extra,
        numeric_label=numeric,
        duplicate_keys=sorted(set(dups)),
    )

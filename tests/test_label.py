"""The Annex E record: strict writing, lenient reading of real-world variants, provider codes."""

from __future__ import annotations

import json

import pytest

from aigc_tag.errors import InvalidLabel
from aigc_tag.label import (
    FIELDS,
    AIGCLabel,
    check_provider_code,
    parse_label,
    uscc_check_digit,
)

PRODUCER = "001191110108MA01ABCDEN10001"
# Producer codes observed in shipped files (spec/gb45438.md §3.3).
REAL_CODES = [
    "001191110102MACQD9K64010000",
    "001191440300708461136T1XGW3",
    "001191330106MA2CFLDG4R10001",
    "001191440300MA5G49LC9K1YO01",
]


def test_first_write_label_mirrors_production_into_propagation():
    label = AIGCLabel.for_producer(PRODUCER, "id-1")
    assert label.ContentPropagator == PRODUCER and label.PropagateID == "id-1"
    obj = json.loads(label.to_json())
    assert list(obj) == ["AIGC"] and list(obj["AIGC"]) == list(FIELDS)
    assert all(isinstance(v, str) for v in obj["AIGC"].values())


def test_unique_ids_without_explicit_id():
    ids = {AIGCLabel.for_producer(PRODUCER).ProduceID for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"Label": "4"}, "Label must be one of"),
        ({"ProduceID": ""}, "ProduceID must not be empty"),
        ({"ContentProducer": "a\nb"}, "control characters"),
    ],
)
def test_strict_writer_refuses_what_annex_e_forbids(changes, message):
    label = AIGCLabel.for_producer(PRODUCER, "x").with_fields(**changes)
    with pytest.raises(InvalidLabel, match=message):
        label.to_json()


def test_non_ascii_value_is_a_warning_not_an_error():
    label = AIGCLabel.for_producer("某某科技", "x")
    warnings = label.validate()
    assert any("ContentProducer" in w for w in warnings)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_provider_codes_have_valid_check_digits(code):
    assert check_provider_code(code) == []


def test_wrong_check_digit_is_caught():
    bad = REAL_CODES[1][:21] + ("A" if REAL_CODES[1][21] != "A" else "B") + REAL_CODES[1][22:]
    assert any("check digit" in p for p in check_provider_code(bad))
    assert uscc_check_digit("91440300708461136") == "T"


def test_name_is_not_a_code():
    assert check_provider_code("doubao")
    assert check_provider_code("001191440300708461136t1xgw3")  # lower case


def test_propagator_digit_in_producer_code():
    code = REAL_CODES[0][:22] + "2" + REAL_CODES[0][23:]
    assert any("propagation" in p for p in check_provider_code(code, role="producer"))
    assert check_provider_code(code, role="propagator") == []


# --- lenient parsing: variants from spec/gb45438.md §3.4 and peers.md §3.6 ------------------

STRICT = AIGCLabel.for_producer(PRODUCER, "p1").to_json()


def test_strict_wrapped_form():
    parsed = parse_label(STRICT)
    assert parsed.strict and parsed.form == "wrapped" and parsed.fields["ProduceID"] == "p1"


def test_bare_inner_object():
    inner = json.dumps(json.loads(STRICT)["AIGC"])
    parsed = parse_label(inner)
    assert parsed.form == "bare" and parsed.strict and parsed.fields["Label"] == "1"


def test_annex_e_spacing_is_tolerated():
    spaced = STRICT.replace('{"AIGC":{', '{"AIGC": {').replace(",", ", ")
    assert parse_label(spaced).strict


def test_numeric_label_is_read_and_flagged():
    parsed = parse_label('{"AIGC":{"Label":1,"ContentProducer":"x","ProduceID":"y"}}')
    assert parsed.fields["Label"] == "1" and parsed.numeric_label and not parsed.strict


def test_misspelled_and_miscased_keys_are_mapped_with_notes():
    raw = '{"AIGC":{"label":"1","ContentProducter":"doubao","ProduceId":"y","PropagateID":"y"}}'
    parsed = parse_label(raw)
    assert parsed.fields["ContentProducer"] == "doubao"
    assert parsed.fields["ProduceID"] == "y" and parsed.fields["Label"] == "1"
    assert len([n for n in parsed.notes if n.startswith("key ")]) == 3
    assert not parsed.strict


def test_bare_blob_without_quotes_around_wrapper():
    parsed = parse_label('AIGC{"Label":"1","ContentProducer":"kling","ProduceID":"abc"}')
    assert parsed.fields["ContentProducer"] == "kling"
    assert any("bare AIGC" in n for n in parsed.notes)


def test_html_escaped_json_is_repaired():
    parsed = parse_label(
        "{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;d"
        "&quot;,&quot;ProduceID&quot;:&quot;z&quot;}"
    )
    assert parsed.fields == {"Label": "1", "ContentProducer": "d", "ProduceID": "z"}


def test_duplicate_keys_are_reported():
    parsed = parse_label('{"Label":"1","Label":"2","ContentProducer":"x","ProduceID":"y"}')
    assert parsed.duplicate_keys == ["Label"]


def test_not_json_is_an_error_not_an_exception():
    parsed = parse_label('{"AIGC":{"Label":"1",')
    assert parsed.fields is None and "not valid JSON" in parsed.error


def test_label_aigc_and_names_instead_of_codes():
    # Seen in the wild: Label "AIGC", a producer name with spaces.
    parsed = parse_label('{"Label":"AIGC","ContentProducer":"Minimax Agent AI","ProduceID":"q"}')
    assert parsed.fields["Label"] == "AIGC" and not parsed.strict

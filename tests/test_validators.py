"""The input validators, held to a definition of each kind written here independently of their regexes.

For every string: accepted exactly when it is a well-formed value of its kind (no whitespace, no
control character, ASCII, the canonical form round-trips); refused otherwise, with the field's
one-line message.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clevercloud_tcp import InputError
from clevercloud_tcp.core.inputs import check_app_id, check_host, check_namespace, check_owner_id, tcp_url
from clevercloud_tcp.errors import python_name

# How many generated cases each property runs (reported in the closing note).
ANY_TEXT_CASES = 500
NEAR_MISS_CASES = 400
VALID_CASES = 300

CHECKS: dict[str, Callable[[object], str]] = {
    "app_id": check_app_id,
    "owner_id": check_owner_id,
    "namespace": check_namespace,
    "host": check_host,
}
LABEL_CHARS = set(string.ascii_lowercase + string.digits + "-")


def _canonical_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text  # lower-case, dashed, nothing around it
    except ValueError:
        return False


def _label(text: str) -> bool:
    return 1 <= len(text) <= 63 and set(text) <= LABEL_CHARS and not text.startswith("-") and not text.endswith("-")


def well_formed(field: str, value: str) -> bool:
    if field == "app_id":
        return value.startswith("app_") and _canonical_uuid(value[4:])
    if field == "owner_id":
        return value[:5] in ("orga_", "user_") and _canonical_uuid(value[5:])
    if field == "namespace":
        return _label(value)
    return value.isascii() and len(value) <= 253 and all(_label(part) for part in value.lower().split("."))


def assert_refused(field: str, value: object) -> None:
    with pytest.raises(InputError) as caught:
        CHECKS[field](value)
    assert python_name(caught.value.field) == field  # the schema's name, which str() spells as Python does
    message = str(caught.value)
    assert message.startswith(f"{field}: expected "), message
    assert message.isprintable(), message  # one line: the value is shown escaped


def assert_accepted(field: str, value: str) -> None:
    result = CHECKS[field](value)
    assert well_formed(field, value), f"{field} accepted {value!r}"
    assert result == (value.lower() if field == "host" else value)
    assert result.isprintable() and not any(c.isspace() for c in result)
    assert CHECKS[field](result) == result  # what check returns passes check unchanged


fields = st.sampled_from(sorted(CHECKS))


@settings(max_examples=ANY_TEXT_CASES, deadline=None)
@given(field=fields, value=st.text(max_size=80) | st.text(alphabet="appusrog_-.0123456789abcdefABCDEF\n \t", max_size=60))
def test_any_string_is_accepted_exactly_when_well_formed(field: str, value: str) -> None:
    if well_formed(field, value):
        assert_accepted(field, value)
    else:
        assert_refused(field, value)


uuids = st.uuids().map(str)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=5).map(".".join)
VALID = {
    "app_id": uuids.map(lambda u: f"app_{u}"),
    "owner_id": st.tuples(st.sampled_from(["orga", "user"]), uuids).map(lambda p: f"{p[0]}_{p[1]}"),
    "namespace": labels,
    "host": st.tuples(hosts, st.randoms()).map(
        lambda pair: "".join(c.upper() if pair[1].random() < 0.3 else c for c in pair[0])
    ),
}
valid_values = fields.flatmap(lambda field: st.tuples(st.just(field), VALID[field]))


@settings(max_examples=VALID_CASES, deadline=None)
@given(valid=valid_values, port=st.integers(min_value=1, max_value=65535))
def test_well_formed_values_are_accepted_and_round_trip(valid: tuple[str, str], port: int) -> None:
    field, value = valid
    assert_accepted(field, value)
    if field == "host":
        url = urlsplit(tcp_url(check_host(value), port) or "")
        assert (url.scheme, url.hostname, url.port, url.path) == ("tcp", value.lower(), port, "")


odd_chars = st.one_of(
    st.sampled_from(["\n", "\r", "\t", " ", "\x00", "\x7f", "\u00a0", "\u2028", "\ufeff", "/", ":", "_", "K", "ſ", "é"]),
    st.characters(),
)


@settings(max_examples=NEAR_MISS_CASES, deadline=None)
@given(valid=valid_values, odd=odd_chars, where=st.sampled_from(["before", "after", "inside"]), at=st.integers(0, 80))
def test_a_well_formed_value_with_a_stray_character_is_refused_unless_still_well_formed(
    valid: tuple[str, str], odd: str, where: str, at: int
) -> None:
    field, value = valid
    if where == "before":
        changed = odd + value
    elif where == "after":
        changed = value + odd
    else:
        i = at % len(value)
        changed = value[:i] + odd + value[i + 1 :]
    if well_formed(field, changed):
        assert_accepted(field, changed)
    else:
        assert_refused(field, changed)


@pytest.mark.parametrize("field", sorted(CHECKS))
@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t", "\x00"], ids=["LF", "CRLF", "space", "tab", "NUL"])
def test_a_trailing_newline_or_space_is_refused(field: str, suffix: str) -> None:
    examples = {
        "app_id": "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b",
        "owner_id": "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e",
        "namespace": "default",
        "host": "db.example.com",
    }
    assert_accepted(field, examples[field])
    assert_refused(field, examples[field] + suffix)


@pytest.mark.parametrize("field", sorted(CHECKS))
@pytest.mark.parametrize("value", [None, 5, 5.0, True, b"default", ["default"]], ids=repr)
def test_values_that_are_not_strings_are_refused(field: str, value: object) -> None:
    assert_refused(field, value)

"""Provider config: typos refused before anything is sent, option values checked, no credential in clear."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clevercloud_tcp import ConfigurationError, resolve_settings
from clevercloud_tcp.config import PACKAGE_NAMES, SHARED_NAMES, key_problems, options_from

KNOWN = [f"clevercloud-tcp:{n}" for n in PACKAGE_NAMES] + [f"clevercloud:{n}" for n in SHARED_NAMES]
name = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), min_size=1, max_size=20)


@given(st.lists(st.sampled_from(KNOWN)), st.lists(name.map(lambda n: f"myproject:{n}")))
def test_known_keys_and_other_namespaces_pass(known: list[str], others: list[str]) -> None:
    assert key_problems(known + others) == []


@given(name.filter(lambda n: n not in PACKAGE_NAMES))
def test_every_unknown_key_of_our_namespace_is_refused_with_a_suggestion(unknown: str) -> None:
    [(key, message)] = key_problems([f"clevercloud-tcp:{unknown}"])
    assert key == f"clevercloud-tcp:{unknown}"
    suggestion = message.rsplit("did you mean ", 1)[1].rstrip("?")
    assert suggestion.removeprefix("clevercloud-tcp:") in PACKAGE_NAMES


@pytest.mark.parametrize(
    "typo,right",
    [
        ("clevercloud:endpiont", "clevercloud:endpoint"),
        ("clevercloud:organisation", "clevercloud:organization"),
        ("clevercloud:Token", "clevercloud:token"),
        ("clevercloud-tcp:requestTimout", "clevercloud-tcp:requestTimeout"),
        ("clevercloud-tcp:retryattempts", "clevercloud-tcp:retryAttempts"),
    ],
)
def test_near_misses_name_the_right_key(typo: str, right: str) -> None:
    [(key, message)] = key_problems([typo, *KNOWN])
    assert key == typo and f"{typo} is not a setting" in message
    assert f"did you mean {right}?" in message


def test_keys_of_pulumi_clevercloud_itself_are_left_alone() -> None:
    assert key_problems(["clevercloud:region", "clevercloud:disableNetworkgroups"]) == []


def test_an_option_of_the_wrong_kind_names_the_key_and_echoes_the_value() -> None:
    with pytest.raises(ConfigurationError) as refused:
        options_from({"clevercloud-tcp:requestTimeout": "fast"})
    assert str(refused.value).startswith("clevercloud-tcp:requestTimeout: ")
    assert "got 'fast'" in str(refused.value) and "default is 15.0" in str(refused.value)
    assert options_from({"clevercloud-tcp:retryAttempts": "3"}).retry_attempts == 3


PAIR = {"CLEVER_TOKEN": "t", "CLEVER_SECRET": "s"}


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080", "http://localhost:1234", "http://[::1]:80", "https://api.example.com"])
def test_https_and_loopback_http_are_accepted(endpoint: str) -> None:
    assert resolve_settings({"clevercloud:endpoint": endpoint}, env=PAIR).endpoint == endpoint


def test_plain_http_elsewhere_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigurationError) as refused:
        resolve_settings({"clevercloud:endpoint": "http://api.example.com"}, env=PAIR)
    assert "in clear" in str(refused.value) and "CLEVERCLOUD_TCP_ALLOW_HTTP=true" in str(refused.value)
    allowed = resolve_settings({"clevercloud:endpoint": "http://api.example.com"}, env={**PAIR, "CLEVERCLOUD_TCP_ALLOW_HTTP": "true"})
    assert allowed.endpoint == "http://api.example.com"

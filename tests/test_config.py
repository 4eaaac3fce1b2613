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


HTTP_ENDPOINTS = ["http://127.0.0.1:8080", "http://localhost:1234", "http://[::1]:80", "http://api.example.com"]


def test_https_is_accepted() -> None:
    assert resolve_settings({"clevercloud:endpoint": "https://api.example.com"}, env=PAIR).endpoint == "https://api.example.com"


@pytest.mark.parametrize("endpoint", HTTP_ENDPOINTS)
def test_plain_http_even_to_this_machine_is_refused_naming_the_opt_in(endpoint: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        resolve_settings({"clevercloud:endpoint": endpoint}, env=PAIR)
    message = str(refused.value)
    assert message.startswith("clevercloud:endpoint is ") and "plain http" in message and "\n" not in message
    assert "clevercloud-tcp:allowHttp set to true" in message and "CLEVERCLOUD_TCP_ALLOW_HTTP=true" in message


@pytest.mark.parametrize("endpoint", HTTP_ENDPOINTS)
@pytest.mark.parametrize(
    ("config", "env"),
    [({"clevercloud-tcp:allowHttp": "true"}, {}), ({"clevercloud-tcp:allowHttp": True}, {}), ({}, {"CLEVERCLOUD_TCP_ALLOW_HTTP": "true"})],
    ids=["config", "config-bool", "environment"],
)
def test_plain_http_is_accepted_once_opted_into(endpoint: str, config: dict[str, object], env: dict[str, str]) -> None:
    assert resolve_settings({"clevercloud:endpoint": endpoint, **config}, env={**PAIR, **env}).endpoint == endpoint


def test_an_opt_in_that_is_no_boolean_is_named_and_allows_nothing() -> None:
    with pytest.raises(ConfigurationError, match="^clevercloud-tcp:allowHttp: input should be a valid boolean"):
        options_from({"clevercloud-tcp:allowHttp": "please"})
    with pytest.raises(ConfigurationError, match="plain http"):
        resolve_settings({"clevercloud:endpoint": "http://127.0.0.1:1", "clevercloud-tcp:allowHttp": "please"}, env=PAIR)


userinfo = st.text(st.characters(codec="utf-8", exclude_characters="@/?#[]\x00"), min_size=1, max_size=30)


@given(user=userinfo, password=st.one_of(st.none(), userinfo), scheme=st.sampled_from(["http://", "https://", ""]))
def test_a_user_name_or_password_in_the_endpoint_is_refused_and_never_echoed(user: str, password: str | None, scheme: str) -> None:
    endpoint = f"{scheme}{user}{':' + password if password is not None else ''}@api.example.com"
    with pytest.raises(ConfigurationError) as refused:
        resolve_settings({"clevercloud-tcp:endpoint": endpoint, "clevercloud-tcp:allowHttp": "true"}, env=PAIR)
    message = str(refused.value)
    assert message.startswith("clevercloud-tcp:endpoint holds a user name or password")
    assert endpoint not in message and (password is None or len(password) < 4 or password not in message)

"""How `python -m clevercloud_tcp.run` takes secrets: from standard input or the environment, never from
its command line, which every local user reads; a value put there by mistake is refused unseen."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clevercloud_tcp.run import UsageError, parse_args, secret_values

KEYS = st.from_regex(r"[a-z][a-z-]{0,12}:[a-zA-Z]{1,12}", fullmatch=True)
# What a user might paste after `=`: anything of some length that is not the name of a set variable.
VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=6, max_size=40).filter(lambda v: v not in os.environ)


@given(key=KEYS, value=VALUES)
def test_a_value_on_the_command_line_is_refused_and_never_shown(key: str, value: str) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as stopped, redirect_stderr(err):
        parse_args(["prog.py", "up", "--secret", f"{key}={value}"])
    said = err.getvalue()
    assert stopped.value.code == 2
    assert value not in said and f"--secret {key} and give the value on standard input" in said


def test_values_come_from_standard_input_in_order_and_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "from the environment")
    args = parse_args(["prog.py", "up", "--secret", "a:first", "--secret", "a:env=MY_SECRET", "--secret", "a:second"])
    values = secret_values(args.secret, io.StringIO("one\ntwo words\n"))
    assert values == {"a:first": "one", "a:env": "from the environment", "a:second": "two words"}


def test_standard_input_ending_early_names_the_key_left_without_a_value() -> None:
    args = parse_args(["prog.py", "up", "--secret", "a:first", "--secret", "a:second"])
    with pytest.raises(UsageError, match=r"--secret a:second: standard input ended before its value"):
        secret_values(args.secret, io.StringIO("one\n"))

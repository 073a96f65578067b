"""Secrets never survive redaction; ordinary text is left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_dsagent.redaction import MASK, is_secret_key, redact, redact_text

ALNUM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=20,
    max_size=60,
)
PROSE = st.text(alphabet="abcdefghij klmnop,.:!?()\n", max_size=40)


@given(
    before=PROSE,
    body=ALNUM,
    after=PROSE,
    prefix=st.sampled_from(["sk-", "sk-proj-", "sk-ant-api03-"]),
)
def test_provider_keys_are_masked_anywhere_in_text(
    before: str, body: str, after: str, prefix: str
) -> None:
    key = prefix + body
    out = redact_text(f"{before} {key} {after}")
    assert body not in out
    assert "sk-" + MASK in out


@given(
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=8, max_size=80),
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "Basic"]),
)
def test_bearer_and_basic_credentials_are_masked(token: str, scheme: str) -> None:
    out = redact_text(f"Authorization: {scheme} {token}")
    assert out == f"Authorization: {scheme} {MASK}"


@given(
    user=st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    password=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyz0123456789!$%^*()-_=+~", min_size=1, max_size=30
    ),
    host=st.from_regex(r"[a-z]{1,10}\.example\.org", fullmatch=True),
)
def test_passwords_inside_urls_are_masked(user: str, password: str, host: str) -> None:
    out = redact_text(f"connect to postgresql://{user}:{password}@{host}:5432/db now")
    assert out == f"connect to postgresql://{user}:{MASK}@{host}:5432/db now"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /api/kernels?token=8a7b6c5d4e3f2a1b0c9d8e7f&x=1", "8a7b6c5d4e3f2a1b0c9d8e7f"),
        ('{"api_key": "abc123def456"}', "abc123def456"),
        ("password=hunter2", "hunter2"),
        ("id " + "AKIA" + "IOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
        ("AIza" + "SyA1234567890abcdefghijklmnopqrstu", "SyA1234567890abcdefghijklmnopqrstu"),
        ("ghp_" + "a" * 36, "a" * 36),
        ("hf_" + "B" * 34, "B" * 34),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
        ),
    ],
)
def test_other_credential_shapes_are_masked(text: str, secret: str) -> None:
    out = redact_text(text)
    assert MASK in out
    assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens: 1024",
        "prompt_tokens=12 completion_tokens=40",
        "the token budget ran out after 3 calls",
        "https://example.com:8080/path@version",
        "skills-matrix and sk-short",
        "Column 'password_strength' has 3 values",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_values_under_secret_keys_are_masked_whole() -> None:
    data = {
        "OPENAI_API_KEY": "whatever",
        "x-api-key": "v",
        "Cookie": "_xsrf=1; session=2",
        "access_token": "t",
        "password": None,
        "max_tokens": 10,
        "token_limit": 3,
        "list": [{"secret": "s"}],
        "tuple": ("a", "sk-" + "Z" * 24),
    }
    assert redact(data) == {
        "OPENAI_API_KEY": MASK,
        "x-api-key": MASK,
        "Cookie": MASK,
        "access_token": MASK,
        "password": None,
        "max_tokens": 10,
        "token_limit": 3,
        "list": [{"secret": MASK}],
        "tuple": ["a", "sk-" + MASK],
    }


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "ANTHROPIC_API_KEY",
        "Authorization",
        "set-cookie",
        "password",
        "client_secret",
        "refresh_token",
    ],
)
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["max_tokens", "token_limit", "author", "keyboard", "tokens"])
def test_ordinary_key_names(key: str) -> None:
    assert not is_secret_key(key)

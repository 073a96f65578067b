"""The gateway's settings: the documented environment names, and variables that are not
settings (a key, the gateway's address and token) left alone and never shown."""

from __future__ import annotations

import logging

import pytest

from jupyter_dsagent.config import DSAgent, load_config
from jupyter_dsagent.exceptions import ConfigError
from tests.llm.support import PLAIN_KEY

DOCUMENTED = {
    "DSAGENT_MODEL": ("model", "openai/gpt-4o-mini", "openai/gpt-4o-mini"),
    "DSAGENT_FALLBACK_MODELS": (
        "fallback_models",
        "anthropic/a, gemini/b",
        ["anthropic/a", "gemini/b"],
    ),
    "DSAGENT_API_BASE": ("api_base", "http://127.0.0.1:11434", "http://127.0.0.1:11434"),
    "DSAGENT_ALLOWED_MODELS": ("allowed_models", "openai/x", ["openai/x"]),
    "DSAGENT_MAX_TOKENS_PER_REQUEST": ("max_tokens_per_request", "4000", 4000),
    "DSAGENT_USER_TOKEN_BUDGET": ("user_token_budget", "100000", 100_000),
    "DSAGENT_USER_COST_BUDGET": ("user_cost_budget", "2.5", 2.5),
    "DSAGENT_RATE_LIMIT_PER_MINUTE": ("rate_limit_per_minute", "30", 30),
}


def test_the_documented_environment_variables_set_the_gateway() -> None:
    settings = load_config(environ={var: raw for var, (_, raw, _) in DOCUMENTED.items()})
    for var, (name, _, expected) in DOCUMENTED.items():
        assert getattr(settings, name) == expected, var
        assert settings.source_of(name) == f"env {var}"
        assert DSAgent.env_var(name) == var


def test_defaults_no_model_temperature_02_keys_kept_from_kernels_no_transcripts() -> None:
    settings = load_config(environ={})
    assert settings.model == "" and settings.fallback_models == []
    assert settings.temperature == 0.2
    assert settings.keep_keys_from_kernels is True and settings.store_transcripts is False


def test_key_and_gateway_variables_are_not_settings_and_are_never_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {
        "DSAGENT_API_KEY": PLAIN_KEY,
        "DSAGENT_GATEWAY_URL": "http://127.0.0.1:8888/dsagent/api/llm/v1",
        "DSAGENT_GATEWAY_TOKEN": PLAIN_KEY[::-1],
        "DSAGENT_MODLE": "typo",
    }
    with caplog.at_level(logging.DEBUG, logger="jupyter_dsagent"):
        settings = load_config(environ=environ)
    assert "DSAGENT_MODLE" in caplog.text  # a real typo is still reported
    for var in ("DSAGENT_API_KEY", "DSAGENT_GATEWAY_URL", "DSAGENT_GATEWAY_TOKEN"):
        assert var not in caplog.text
    assert PLAIN_KEY not in caplog.text and PLAIN_KEY[::-1] not in caplog.text
    assert settings.non_defaults() == {}


@pytest.mark.parametrize(
    ("environ", "fragments"),
    [
        ({"DSAGENT_FALLBACK_MODELS": "openai/b"}, ["DSAgent.model is empty", "DSAGENT_MODEL"]),
        (
            {"DSAGENT_MODEL": "openai/a", "DSAGENT_FALLBACK_MODELS": "openai/b,openai/a"},
            ["repeats openai/a"],
        ),
        (
            {"DSAGENT_MODEL": "openai/gpt-4o", "DSAGENT_DENIED_MODELS": "openai/gpt-4*"},
            ["refuses 'openai/gpt-4o'", "'openai/gpt-4*'"],
        ),
        (
            {"DSAGENT_MODEL": "openai/a", "DSAGENT_MODEL_API_BASES": "openai/z=http://h:1/v1"},
            ["names 'openai/z'"],
        ),
        ({"DSAGENT_API_BASE": "ftp://h/v1"}, ["DSAgent.api_base", "http(s) URL"]),
        ({"DSAGENT_MODEL_API_BASES": "openai/b"}, ["DSAgent.model_api_bases", "model=url"]),
        (
            {"DSAGENT_USER_COST_BUDGET": "-1"},
            ["DSAgent.user_cost_budget", "0.0 to 1,000,000.0 USD"],
        ),
    ],
)
def test_incoherent_model_settings_fail_with_one_sentence(
    environ: dict[str, str], fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    for fragment in fragments:
        assert fragment in caught.value.message


def test_a_password_in_a_base_url_is_refused_without_being_repeated() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"DSAGENT_API_BASE": f"http://user:{PLAIN_KEY}@127.0.0.1/v1"})
    assert "without credentials" in caught.value.message
    assert PLAIN_KEY not in caught.value.message

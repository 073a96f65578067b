"""Provider keys: taken from the environment kernels inherit, held, and never shown."""

from __future__ import annotations

import logging

import pytest

from jupyter_dsagent.llm import (
    GATEWAY_TOKEN_VARIABLE,
    GATEWAY_URL_VARIABLE,
    KernelEnvironment,
    KeyRing,
)
from jupyter_dsagent.llm.keys import KEY_VARIABLES
from jupyter_dsagent.observability import RedactingFilter
from jupyter_dsagent.redaction import redact, redact_text
from tests.llm.support import PLAIN_KEY, SHAPED_KEY


def test_the_key_of_the_configured_model_comes_first_then_the_providers() -> None:
    keys = KeyRing(
        {"OPENAI_API_KEY": SHAPED_KEY, "DSAGENT_API_KEY": PLAIN_KEY, "GEMINI_API_KEY": ""}
    )
    assert keys.for_provider("openai", primary=True) == PLAIN_KEY
    assert keys.for_provider("openai", primary=False) == SHAPED_KEY
    assert keys.for_provider("anthropic", primary=False) is None
    assert keys.for_provider("ollama", primary=False) is None
    assert keys.names() == ["DSAGENT_API_KEY", "OPENAI_API_KEY"]
    assert PLAIN_KEY not in repr(keys) and SHAPED_KEY not in repr(keys)


def test_held_keys_are_masked_wherever_text_is_redacted_whatever_their_shape() -> None:
    KeyRing({"DSAGENT_API_KEY": PLAIN_KEY})
    assert PLAIN_KEY not in redact_text(f"the provider said: bad key {PLAIN_KEY}!")
    assert PLAIN_KEY not in str(redact({"detail": [f"x{PLAIN_KEY}y"]}))
    record = logging.makeLogRecord({"msg": "litellm: %s", "args": (PLAIN_KEY,)})
    RedactingFilter().filter(record)
    assert PLAIN_KEY not in record.getMessage()


def test_kernel_environment_trades_the_keys_for_the_gateway_and_can_undo_it() -> None:
    environ = {
        "OPENAI_API_KEY": SHAPED_KEY,
        "DSAGENT_API_KEY": PLAIN_KEY,
        "WANDB_API_KEY": "kept",
        "PATH": "/bin",
    }
    before = dict(environ)
    change = KernelEnvironment(environ)
    keys = change.take_keys(remove=True)
    change.offer_gateway("http://127.0.0.1:8888/dsagent/api/llm/v1", "gateway-token-value")
    assert keys.names() == ["DSAGENT_API_KEY", "OPENAI_API_KEY"]
    assert environ == {
        "WANDB_API_KEY": "kept",  # not a model provider's: the person's own tools need it
        "PATH": "/bin",
        GATEWAY_URL_VARIABLE: "http://127.0.0.1:8888/dsagent/api/llm/v1",
        GATEWAY_TOKEN_VARIABLE: "gateway-token-value",
    }
    change.offer_gateway("http://127.0.0.1:9999/dsagent/api/llm/v1", "gateway-token-value")
    change.restore()
    assert environ == before


def test_keeping_keys_in_the_environment_only_adds_the_gateway() -> None:
    environ = {"ANTHROPIC_API_KEY": SHAPED_KEY}
    change = KernelEnvironment(environ)
    assert change.take_keys(remove=False).for_provider("anthropic", primary=False) == SHAPED_KEY
    assert environ == {"ANTHROPIC_API_KEY": SHAPED_KEY}


@pytest.mark.parametrize(
    "name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DSAGENT_API_KEY"]
)
def test_the_usual_provider_variables_are_known(name: str) -> None:
    assert name in KEY_VARIABLES

"""Which models a request may name: the configured chain, the allow-list, the deny-list."""

from __future__ import annotations

import pytest

from jupyter_dsagent.config import load_config
from jupyter_dsagent.exceptions import ModelNotAllowed, ModelNotConfigured
from jupyter_dsagent.llm.catalog import ModelCatalog


def catalog(**environ: str) -> ModelCatalog:
    return ModelCatalog.from_settings(
        load_config(environ={f"DSAGENT_{k.upper()}": v for k, v in environ.items()})
    )


def test_the_chain_comes_first_and_an_empty_model_field_means_the_configured_model() -> None:
    models = catalog(model="openai/a", fallback_models="openai/b,anthropic/c", allowed_models="x/d")
    assert models.names() == ["openai/a", "openai/b", "anthropic/c", "x/d"]
    assert models.resolve(None) == models.resolve("") == "openai/a"
    assert models.resolve("anthropic/c") == "anthropic/c"


def test_each_model_falls_back_along_the_configured_chain_without_itself() -> None:
    models = catalog(model="openai/a", fallback_models="openai/b,openai/c", allowed_models="x/d")
    assert models.fallbacks_of("openai/a") == ["openai/b", "openai/c"]
    assert models.fallbacks_of("openai/b") == ["openai/a", "openai/c"]
    assert models.fallbacks_of("x/d") == ["openai/a", "openai/b", "openai/c"]


def test_the_deny_list_wins_over_the_allow_list() -> None:
    models = catalog(
        model="openai/a", allowed_models="openai/gpt-4o,openai/gpt-4.1", denied_models="*gpt-4.*"
    )
    assert models.names() == ["openai/a", "openai/gpt-4o"]
    with pytest.raises(ModelNotAllowed, match="deny-list"):
        models.resolve("openai/gpt-4.1")
    with pytest.raises(
        ModelNotAllowed, match="not allowed here; ask for one of: openai/a, openai/gpt-4o"
    ):
        models.resolve("openai/other")


def test_a_very_long_model_name_is_clipped_in_the_refusal() -> None:
    with pytest.raises(ModelNotAllowed) as refused:
        catalog(model="openai/a").resolve("m" * 5000)
    assert len(refused.value.message) < 400


def test_no_model_configured_lists_nothing_and_refuses_with_how_to_configure() -> None:
    models = catalog()
    assert not models.configured and models.names() == []
    with pytest.raises(ModelNotConfigured, match="DSAGENT_MODEL"):
        models.resolve("openai/a")


def test_base_urls_belong_to_their_models() -> None:
    models = catalog(
        model="openai/a",
        api_base="http://127.0.0.1:8000/v1",
        fallback_models="openai/b",
        model_api_bases="openai/b=http://127.0.0.1:9000/v1",
    )
    assert models.api_bases == {
        "openai/a": "http://127.0.0.1:8000/v1",
        "openai/b": "http://127.0.0.1:9000/v1",
    }


def test_metric_labels_are_ours_or_other() -> None:
    models = catalog(model="openai/a")
    assert (models.label("openai/a"), models.label("anything else"), models.label(None)) == (
        "openai/a",
        "other",
        "other",
    )

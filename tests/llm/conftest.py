"""The direct LLMService in front of the scripted model, as the library tests build it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.config import load_config
from jupyter_dsagent.llm import LLMService, direct_service
from tests.llm.support import SHAPED_KEY
from tests.scripted_llm import ScriptedLLM

MakeService = Callable[..., LLMService]


@pytest.fixture
def make_service(data_dir: Path, scripted_llm: ScriptedLLM) -> Iterator[MakeService]:
    """``make_service(**settings)``: a direct LLMService in front of the scripted model;
    each keyword is a setting (``model_retries=2`` sets ``DSAGENT_MODEL_RETRIES``)."""
    made: list[LLMService] = []

    def make(**settings: Any) -> LLMService:
        environ = {
            "DSAGENT_DATA_DIR": str(data_dir),
            "DSAGENT_MODEL": "openai/gpt-4o-mini",
            "DSAGENT_API_BASE": scripted_llm.url,
            "DSAGENT_RETRY_MAX_WAIT_SECONDS": "0.01",
            **{f"DSAGENT_{k.upper()}": str(v) for k, v in settings.items()},
        }
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        service = direct_service(
            load_config(environ=environ),
            AuditLog(data_dir / "audit.sqlite"),
            environ={"OPENAI_API_KEY": SHAPED_KEY},
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()
        service.audit.close()

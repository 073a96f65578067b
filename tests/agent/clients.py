"""The model client agent tests use: the real litellm path to the scripted server.

The agent's ``DirectClient`` over the gateway's own ``LLMService`` (litellm Router,
policy, budgets, audit) with ``openai/scripted`` pointed at the scripted server.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_dsagent.agent.client import ModelClient
from jupyter_dsagent.agent.direct import DirectClient
from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.llm import direct_service
from tests.scripted_llm import ScriptedLLM

MODEL = "openai/scripted"


def model_client(
    llm: ScriptedLLM, *, tmp_path: Path, audit: AuditLog | None = None, **settings: str
) -> ModelClient:
    environ = {
        "DSAGENT_MODEL": MODEL,
        "DSAGENT_API_BASE": llm.url,
        "DSAGENT_DATA_DIR": str(tmp_path / "llm-data"),
        "DSAGENT_MODEL_RETRIES": "0",
        **{f"DSAGENT_{k.upper()}": v for k, v in settings.items()},
    }
    config = DSAgent(environ=environ).validate()
    service = direct_service(
        config,
        audit or AuditLog(tmp_path / "llm-audit.sqlite"),
        environ={"OPENAI_API_KEY": "sk-scripted-test-key"},
    )
    return DirectClient(service, user="tester", model=MODEL)

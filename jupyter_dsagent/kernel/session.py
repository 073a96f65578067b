"""One kernel's agent state: the workspace, the agent, AutoML runs and the sidebar link.

Magics, widgets and the comm all act through this object, so a question asked in a
cell and one asked in the sidebar share one conversation and one list of runs.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ..agent import Agent, Answer, Workspace
from ..agent.client import GatewayClient, ModelClient
from ..runtime import Runtime, current_user

__all__ = ["KernelSession", "SidebarPeer", "progress_value", "session_for"]

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]


class SidebarPeer(Protocol):
    """A connected sidebar panel (see comm.py)."""

    def send_insert(self, suggestion: Any, run: bool) -> None: ...

    def send_suggestion(self, suggestion: Any) -> None: ...


class KernelSession:
    """The agent side of one kernel."""

    def __init__(self, shell: Any, runtime: Runtime) -> None:
        self.shell = shell
        self.runtime = runtime
        self.actor = current_user()
        self._runs: list[Any] = []
        self.suggestions: dict[str, Any] = {}
        self.progress_listeners: list[Callable[[Any], None]] = []
        self.sidebars: list[SidebarPeer] = []
        self._agent: Agent | None = None
        self._busy = threading.Lock()
        self.workspace = Workspace(
            namespace=shell.user_ns,
            list_uploads=self._list_uploads,
            load_upload=self._load_upload,
            start_automl=self.start_automl,
            automl_runs=lambda: self.runs,
            last_error=lambda: getattr(sys, "last_value", None),
        )

    # -- agent ----------------------------------------------------------------------------
    @property
    def agent(self) -> Agent:
        if self._agent is None:
            self._agent = Agent(
                self.workspace,
                settings=self.runtime.settings,
                client=self._client(),
                audit=self.runtime.audit,
                actor=self.actor,
            )
        return self._agent

    def ask(
        self,
        question: str,
        *,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """Answer one question; one at a time per kernel, so the history stays in order."""
        if not self._busy.acquire(blocking=False):
            from ..exceptions import BadRequest

            raise BadRequest("The agent is still answering the previous question.")
        try:
            answer = self.agent.ask(question, on_event=on_event, cancel=cancel)
        finally:
            self._busy.release()
        for suggestion in answer.suggestions:
            self.suggestions[suggestion.id] = suggestion
        return answer

    def ask_in_background(
        self,
        question: str,
        *,
        on_event: EventSink,
        on_done: Callable[[Answer], None],
        on_error: Callable[[BaseException], None],
    ) -> threading.Event:
        """Answer in a thread so the kernel stays free; returns the event that cancels it."""
        cancel = threading.Event()

        def work() -> None:
            try:
                answer = self.ask(question, on_event=on_event, cancel=cancel)
            except BaseException as exc:  # reported to the person, never lost in a thread
                on_error(exc)
            else:
                on_done(answer)

        threading.Thread(target=work, name="dsagent-ask", daemon=True).start()
        return cancel

    def _client(self) -> ModelClient | None:
        settings = self.runtime.settings
        gateway = GatewayClient.from_environment(settings)
        if gateway is not None:
            return gateway
        if not settings.model:
            return None
        from ..agent.direct import DirectClient

        return DirectClient.for_runtime(self.runtime, user=self.actor)

    def usage(self) -> dict[str, Any]:
        """Tokens and cost so far: ``{"rows": [...], "message": str}``."""
        client = self.agent.client
        if client is None:
            return {
                "rows": [],
                "message": "No model is configured: the offline planner "
                "answers, and it costs nothing.",
            }
        return client.usage()

    # -- suggestions ------------------------------------------------------------------------
    def record_inserted(self, suggestion_id: str, sha256: str, *, run: bool, via: str) -> bool:
        """Audit an insertion; False when the code is not one this agent suggested."""
        suggestion = self.suggestions.get(suggestion_id)
        matches = suggestion is not None and suggestion.sha256 == sha256
        self.runtime.audit.append(
            "suggestion.inserted",
            actor=self.actor,
            subject=suggestion_id,
            outcome="ok" if matches else "denied",
            details={"sha256": sha256, "run": run, "via": via},
        )
        return matches

    def offer_insert(self, suggestion: Any, *, run: bool = False) -> bool:
        """Ask a connected sidebar to insert ``suggestion``; False when none is connected."""
        for sidebar in list(self.sidebars):
            sidebar.send_insert(suggestion, run)
        return bool(self.sidebars)

    def offer_suggestion(self, suggestion: Any) -> None:
        """Show a suggestion made outside the sidebar (e.g. by a magic) in the sidebar."""
        for sidebar in list(self.sidebars):
            sidebar.send_suggestion(suggestion)

    # -- AutoML -----------------------------------------------------------------------------
    def start_automl(self, frame: Any, *, target: str, **options: Any) -> Any:
        """Start a non-blocking run and tell every progress listener as it moves."""
        from ..automl import automl

        run = automl(frame, target, **options)
        self._runs.insert(0, run)
        run.on_progress(lambda progress: self._progress(run))
        return run

    @property
    def runs(self) -> list[Any]:
        """Runs started here, then any other run of this process still going, newest first."""
        from ..automl import active_runs

        known = {run.run_id for run in self._runs}
        others = [run for run in reversed(active_runs()) if run.run_id not in known]
        return [*self._runs, *others]

    def find_run(self, run_id: str) -> Any | None:
        return next((run for run in self.runs if run.run_id == run_id), None)

    def _progress(self, run: Any) -> None:
        for listener in list(self.progress_listeners):
            try:
                listener(run)
            except Exception:  # a closed widget or comm must not stop the run's monitor
                log.debug("progress listener failed", exc_info=True)

    # -- uploads ----------------------------------------------------------------------------
    def _list_uploads(self) -> list[Any]:
        from ..api import uploads

        return uploads()

    def _load_upload(self, name_or_id: str) -> Any:
        from ..api import load

        return load(name_or_id)


def progress_value(progress: Any, name: str, default: Any = None) -> Any:
    """One field of a run's progress, whether it is a mapping or an object."""
    if isinstance(progress, dict):
        return progress.get(name, default)
    return getattr(progress, name, default)


_SESSIONS: dict[int, KernelSession] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(shell: Any, runtime: Runtime | None = None) -> KernelSession:
    """The one session of ``shell``, made on first use (``dsa.ask`` works before %load_ext)."""
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(id(shell))
        if session is None:
            if runtime is None:
                from ..config import load_config, read_jupyter_config
                from ..runtime import start_runtime

                config, origins = read_jupyter_config()
                runtime = start_runtime(
                    load_config(config=config, config_origins=origins), process="kernel"
                )
            session = _SESSIONS[id(shell)] = KernelSession(shell, runtime)
        return session

"""What the server changes in its own environment for the kernels it starts, and the undo.

Kernels (and terminals) inherit the server's ``os.environ`` whichever way they are
started: the kernels API, sessions, another extension. So the server takes the
provider keys out of it at start, holding them in the gateway, and puts in the
gateway's address and credential instead. :meth:`KernelEnvironment.restore` puts
everything back (at server stop, and between tests that run servers in one process).
"""

from __future__ import annotations

from collections.abc import MutableMapping

from .keys import KEY_VARIABLES, KeyRing

__all__ = ["GATEWAY_TOKEN_VARIABLE", "GATEWAY_URL_VARIABLE", "KernelEnvironment"]

#: The gateway's OpenAI-compatible base URL (``…/dsagent/api/llm/v1``).
GATEWAY_URL_VARIABLE = "DSAGENT_GATEWAY_URL"
#: A credential accepted by ``/dsagent/api/llm/*`` only, as ``Authorization: Bearer …``.
GATEWAY_TOKEN_VARIABLE = "DSAGENT_GATEWAY_TOKEN"


class KernelEnvironment:
    """Changes to one environment mapping, each remembered so it can be undone."""

    def __init__(self, environ: MutableMapping[str, str]) -> None:
        self._environ = environ
        self._saved: dict[str, str | None] = {}

    def _set(self, name: str, value: str | None) -> None:
        self._saved.setdefault(name, self._environ.get(name))
        if value is None:
            self._environ.pop(name, None)
        else:
            self._environ[name] = value

    def take_keys(self, *, remove: bool) -> KeyRing:
        """The provider keys found; with ``remove``, gone from the environment."""
        keys = KeyRing.take(dict(self._environ), remove=False)
        if remove:
            for name in KEY_VARIABLES:
                if name in self._environ:
                    self._set(name, None)
        return keys

    def offer_gateway(self, url: str, token: str) -> None:
        """Tell kernels started from now on where the gateway is and how to call it."""
        self._set(GATEWAY_URL_VARIABLE, url)
        self._set(GATEWAY_TOKEN_VARIABLE, token)

    def restore(self) -> None:
        """Undo every change, in the mapping as it is now."""
        for name, value in self._saved.items():
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value
        self._saved.clear()

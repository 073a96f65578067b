"""Audit endpoints: query the records (newest first) and verify the hash chain."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.ioloop import IOLoop

from ..audit import KINDS
from ..exceptions import BadRequest
from .base import AUDIT_RESOURCE, DSAgentHandler

__all__ = ["AuditHandler", "AuditVerifyHandler"]

# A kind is queried exactly ("upload.accepted") or as a family ("upload").
_QUERYABLE_KINDS = frozenset(KINDS) | {kind.split(".")[0] for kind in KINDS}


class AuditHandler(DSAgentHandler):
    """``GET ?kind=&since=&limit=``: audit records, newest first."""

    auth_resource = AUDIT_RESOURCE
    route = "/dsagent/api/audit"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        kind = self.get_query_argument("kind", "") or None
        if kind is not None and kind not in _QUERYABLE_KINDS:
            raise BadRequest(
                f"kind must be an audit kind or family; known: {', '.join(sorted(KINDS))}."
            )
        since = _utc_timestamp(self.get_query_argument("since", ""))
        limit = self.int_argument("limit", default=100, low=1, high=1000)
        records = self.runtime.audit.query(kind=kind, since=since, limit=limit)
        self.finish(json.dumps([record.to_dict() for record in records]))


class AuditVerifyHandler(DSAgentHandler):
    """``GET``: walk the whole chain and report the first record that breaks it."""

    auth_resource = AUDIT_RESOURCE
    route = "/dsagent/api/audit/verify"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        # The walk reads every record: keep it off the event loop.
        result = await IOLoop.current().run_in_executor(None, self.runtime.audit.verify)
        self.finish(
            json.dumps(
                {
                    "ok": result.ok,
                    "records": result.records,
                    "first_bad": result.first_bad,
                    "reason": result.reason,
                }
            )
        )


def _utc_timestamp(text: str) -> str | None:
    """An ISO 8601 time as the audit log writes times (UTC, microseconds, ``Z``).

    Records compare as text, so ``since`` must be in exactly their format; a time
    without a zone is taken as UTC.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"since must be an ISO 8601 time such as 2025-01-31T12:00:00Z, not {text[:40]!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")

"""``jupyter dsagent``: inspect the effective configuration and check the audit log.

Exit codes: 0 success, 1 the audit chain is broken, 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .audit import AuditLog, Checkpoint
from .config import DSAgent, load_config, read_jupyter_config
from .exceptions import DSAgentError
from .redaction import redact
from .reference import config_reference_markdown

__all__ = ["main"]

# Environment variables that carry provider credentials: shown as set/unset, never printed.
_KEY_SUFFIXES = ("_API_KEY", "_API_TOKEN", "_ACCESS_KEY", "_SECRET_ACCESS_KEY", "_TOKEN")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except DSAgentError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter dsagent", description="jupyter_dsagent administration."
    )
    commands = parser.add_subparsers(title="commands")

    config = commands.add_parser(
        "config", help="print the effective configuration, with where each value came from"
    )
    config.add_argument("--json", action="store_true", help="print JSON instead of a table")
    config.add_argument(
        "--reference",
        action="store_true",
        help="print the Markdown reference of every setting (as in README.md)",
    )
    config.set_defaults(handler=_config_command)

    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(title="audit commands")
    verify = audit_commands.add_parser("verify", help="walk the hash chain; exit 1 if broken")
    verify.add_argument("--db", type=Path, help="audit database (default: from the data dir)")
    verify.add_argument(
        "--checkpoint",
        type=Checkpoint.parse,
        metavar="SEQ:HASH",
        help="a chain head noted earlier (server log, 'audit head'): fail if it is gone",
    )
    verify.set_defaults(handler=_verify_command)
    head = audit_commands.add_parser("head", help="print the chain head as SEQ:HASH")
    head.add_argument("--db", type=Path, help="audit database (default: from the data dir)")
    head.set_defaults(handler=_head_command)
    return parser


def _settings() -> DSAgent:
    config, origins = read_jupyter_config()
    return load_config(config=config, config_origins=origins)


def _config_command(args: argparse.Namespace) -> int:
    if args.reference:
        print(config_reference_markdown(), end="")
        return 0
    settings = _settings()
    rows = [(name, redact(value), source) for name, value, source in settings.effective()]
    keys = {var: "set" for var in sorted(os.environ) if var.endswith(_KEY_SUFFIXES)}
    if args.json:
        payload: dict[str, Any] = {
            "settings": {name: {"value": value, "source": source} for name, value, source in rows},
            "provider_keys": keys,
        }
        print(json.dumps(payload, indent=2))
        return 0
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"DSAgent.{name:<{width}}  {json.dumps(value):<30}  ({source})")
    print("\nProvider keys in the environment (values never shown):")
    for var in keys or {"(none)": ""}:
        print(f"  {var}{'  set' if var in keys else ''}")
    return 0


def _audit_log(args: argparse.Namespace) -> AuditLog:
    db = (
        args.db if args.db is not None else Path(_settings().data_dir).expanduser() / "audit.sqlite"
    )
    if not db.is_file():
        raise DSAgentError(f"There is no audit log at {db}.")
    return AuditLog(db)


def _verify_command(args: argparse.Namespace) -> int:
    result = _audit_log(args).verify(checkpoint=args.checkpoint)
    if result.ok:
        print(f"ok: {result.records} records, chain intact")
        return 0
    print(f"BROKEN after {result.records} good records: {result.reason}", file=sys.stderr)
    if result.first_bad is not None:
        print(
            f"first bad record: seq {result.first_bad_seq}, id {result.first_bad}", file=sys.stderr
        )
    return 1


def _head_command(args: argparse.Namespace) -> int:
    print(_audit_log(args).head())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

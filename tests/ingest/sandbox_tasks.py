"""Misbehaving 'validators' the sandbox tests run in a worker; never used elsewhere."""

from __future__ import annotations

import ctypes
import os
import time

from jupyter_dsagent.exceptions import ContentMismatch


def echo(value: object) -> object:
    return value


def pid() -> int:
    return os.getpid()


def refuse(message: str) -> None:
    raise ContentMismatch(message, code="content_mismatch")


def buggy() -> None:
    raise KeyError("validator bug")


def spin() -> None:
    while True:
        pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def hog_memory(n_bytes: int) -> int:
    blocks = [bytearray(1 << 20) for _ in range(n_bytes >> 20)]
    return len(blocks)


def segfault() -> None:
    ctypes.string_at(0)

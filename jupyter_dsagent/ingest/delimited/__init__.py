"""Delimited text uploads (CSV, TSV, TXT): decide once how to read them, then read them
exactly that way.

:func:`inspect_delimited` runs in the sandboxed worker. It refuses binary and markup,
sniffs the dialect on a bounded sample, then makes one streaming, quote-aware pass over
the bytes that counts records exactly, enforces the limits as it goes and checks that
the whole file is UTF-8; when it is not, a single-byte codec is chosen on a sample and
confirmed against every byte value the file holds. :func:`read_delimited` reads with
exactly the stored options.

The modules, in the order inspection uses them: ``head`` (first bytes, BOM, binary and
markup), ``dialect`` (separator, decimal mark, header, NA tokens), ``scan`` (the counting
pass, built from ``chunks``, ``quoting`` and ``formula_cells``), ``encoding`` (the codec),
``read`` (stored options and the read), and ``inspect``, which strings them together.
"""

from __future__ import annotations

from .dialect import SEPARATORS
from .inspect import inspect_delimited
from .read import read_delimited

__all__ = ["SEPARATORS", "inspect_delimited", "read_delimited"]

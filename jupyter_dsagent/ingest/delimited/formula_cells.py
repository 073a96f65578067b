"""Counts the cells that a spreadsheet would run as formulas, on the raw bytes of a step.

It applies export.py's rule (:func:`~jupyter_dsagent.ingest.export.is_formula_like`)
to cells as pandas will read them, without decoding or splitting the text: first
bytes come from the step's watched positions, and only cells that start with a sign
are looked at further to let plain numbers such as ``-5`` through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from ..export import NUMBER_BODY
from .chunks import CR, FORMULA_BYTES, PAD, QUOTE, TAB, Chunk, is_field_start
from .quoting import Quoting

__all__ = ["FormulaCounter"]

_PLUS, _MINUS = ord("+"), ord("-")
_NUMBER_WINDOW: Final = 12  # bytes after a leading '+'/'-' examined at once
# A cell, after its leading sign, that can only be a number: the rule of export.py.
_NUMBER_BODY = re.compile(NUMBER_BODY.encode("ascii"))


class FormulaCounter:
    """Adds up the formula-like cells of the steps it is shown, and how far it got."""

    def __init__(self, sep: int) -> None:
        self._sep = sep
        self._formula_kinds = frozenset(FORMULA_BYTES) - {sep}
        self._plain_end = re.compile(b"[" + re.escape(bytes([sep])) + rb"\r\n]")
        self.cells = 0
        self.end = 0  # stream offset up to which formula cells were counted

    def count(self, chunk: Chunk, quoting: Quoting) -> None:
        """Count the formula-like cells that start in ``chunk``."""
        kinds = [b for b in chunk.present if b in self._formula_kinds]
        if kinds:
            self.cells += self._formula_cells(chunk, kinds, quoting)
        if self._sep == TAB and len(quoting.toggles):
            self.cells += self._tabs_opening_quoted_cells(chunk, quoting)
        self.end = chunk.base + chunk.hi

    def _is_start(self, values: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        return is_field_start(values, self._sep)

    def _formula_cells(self, chunk: Chunk, formula_kinds: Sequence[int], quoting: Quoting) -> int:
        """Cells that start with = + - @ tab or CR and are not plain numbers.

        A cell's text starts at the first byte of an unquoted field, just after the
        opening quote of a quoted one, or after an empty ``""`` (pandas reads ``""-x``
        as ``-x``). Tabs that lead a record are left to the scanner: see
        :meth:`_record_leads`.
        """
        kinds, arr, lo = chunk.kinds, chunk.arr, chunk.lo
        is_formula = kinds == formula_kinds[0]
        for value in formula_kinds[1:]:
            is_formula |= kinds == value
        index = np.flatnonzero(is_formula)
        at = chunk.positions[index]
        before = arr[lo + at - 1]
        plain, after_quote = self._is_start(before), before == QUOTE
        keep = np.flatnonzero(plain | after_quote)  # a '-' inside a date stops here
        if not len(keep):
            return 0
        index, at, before = index[keep], at[keep], before[keep]
        plain, after_quote, kind = plain[keep], after_quote[keep], kinds[index]
        inside = quoting.inside(index)
        plain &= (inside == 0) & (kind != CR)
        quoted = np.zeros(len(at), dtype=bool)
        starts = plain.copy()
        behind = np.flatnonzero(after_quote)  # few: only these need the quote bookkeeping
        if len(behind):
            quoted[behind], starts[behind] = self._after_a_quote(
                chunk, at[behind], inside[behind], kind[behind], quoting
            )
        if TAB in formula_kinds:
            starts &= ~self._record_leads(chunk, at, plain & (kind == TAB), before)
        signed = starts & ((kind == _PLUS) | (kind == _MINUS))
        count = int(np.count_nonzero(starts & ~signed))
        return count + self._not_numbers(chunk, at[signed], quoted[signed])

    def _after_a_quote(
        self,
        chunk: Chunk,
        at: npt.NDArray[np.intp],
        inside: npt.NDArray[np.intp],
        kind: npt.NDArray[np.uint8],
        quoting: Quoting,
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """For bytes right after a quote: (starts a quoted cell, starts any cell)."""
        arr, lo, origin = chunk.arr, chunk.lo, chunk.base + chunk.lo
        toggled = quoting.toggled(at - 1, origin)
        quoted = toggled & (inside == 1) & self._is_start(arr[lo + at - 2])
        empty_before = toggled & (inside == 0) & (kind != CR) & (arr[lo + at - 2] == QUOTE)
        empty_before &= quoting.toggled(at - 2, origin) & self._is_start(arr[lo + at - 3])
        return quoted, quoted | empty_before

    def _tabs_opening_quoted_cells(self, chunk: Chunk, quoting: Quoting) -> int:
        """In a TSV a tab separates fields, but ``"\t..."`` is a cell that starts with one."""
        arr, lo, toggles = chunk.arr, chunk.lo, quoting.toggles
        opens = toggles[quoting.opens()]
        at_start = self._is_start(arr[lo + opens - 1])
        return int(np.count_nonzero(at_start & (arr[lo + opens + 1] == TAB)))

    def _record_leads(
        self,
        chunk: Chunk,
        at: npt.NDArray[np.intp],
        tabs: npt.NDArray[np.bool_],
        before: npt.NDArray[np.uint8],
    ) -> npt.NDArray[np.bool_]:
        """Which of the unquoted cell-starting ``tabs`` lead a record; the scanner counts those.

        A tab that opens a record, or follows the separator that opens a record after a
        lone-CR line end, starts a cell only if pandas keeps the record: it skips a line
        of blanks, and after skipping a blank line that ends in a lone CR it drops the
        separator that follows (so ``\\r,\\t`` is a blank line too). Only the scanner knows,
        possibly steps later, whether the record is blank: see :meth:`count_record_lead`.
        """
        leads = tabs & (before != self._sep)
        after_sep = np.flatnonzero(tabs & (before == self._sep))
        leads[after_sep] = chunk.arr[chunk.lo + at[after_sep] - 2] == CR
        return leads

    def count_record_lead(self, offset: int) -> None:
        """Count the tab at stream ``offset`` that leads a record pandas keeps.

        Called by the scanner for the tabs :meth:`_record_leads` left out, once the record
        is known not to be blank; ``offset`` counts only if it lies in the counted sample.
        """
        if offset < self.end:
            self.cells += 1

    def count_record_leads(self, offsets: npt.NDArray[np.intp]) -> None:
        """:meth:`count_record_lead` for many tabs at once."""
        self.cells += int(np.count_nonzero(offsets < self.end))

    def _not_numbers(
        self, chunk: Chunk, at: npt.NDArray[np.intp], quoted: npt.NDArray[np.bool_]
    ) -> int:
        """How many of the signed cells at ``at`` are not plain numbers like -5 or +3.2."""
        if not len(at):
            return 0
        windows = np.lib.stride_tricks.sliding_window_view(chunk.arr, _NUMBER_WINDOW)
        cells = windows[chunk.lo + at + 1]  # the bytes after each sign, one row per cell
        digit = (cells - np.uint8(48)) < 10
        other = ~digit
        other &= cells != ord(".")
        comma = cells == ord(",")
        other &= ~(comma & quoted[:, None]) if self._sep == ord(",") else ~comma
        rows = np.arange(len(at))
        length = np.argmax(other, axis=1)
        stop = cells[rows, length]
        found = other[rows, length]  # a byte that is neither digit nor mark, within reach
        after = chunk.arr[chunk.lo + at + 2 + length]
        # A quoted cell ends at a quote followed by a separator or line end; after any
        # other byte pandas goes on reading the cell ("-3.5"a is -3.5a).
        closed = np.where(quoted, (stop == QUOTE) & self._is_start(after), self._is_start(stop))
        lead = digit[:, 0] | (~other[:, 0] & digit[:, 1])
        count = int(np.count_nonzero(found & closed & (length >= 1) & lead))
        exponent = (length >= 1) & ((stop == ord("e")) | (stop == ord("E")))
        unsure = ~found | exponent | (quoted & (stop == QUOTE) & ~self._is_start(after))
        for row in np.flatnonzero(unsure).tolist():
            count += self._number_at(chunk, chunk.lo + int(at[row]) + 1, bool(quoted[row]))
        return len(at) - count

    def _number_at(self, chunk: Chunk, start: int, quoted: bool) -> bool:
        """Slow, exact check of one cell; one that goes past the look-ahead counts as text."""
        rest = bytes(chunk.buf[start : start + PAD - 2])
        content = b""
        if quoted:  # up to the closing quote; "" is a literal quote
            while True:
                end = rest.find(b'"')
                if end < 0:
                    return False
                content += rest[:end]
                if rest[end + 1 : end + 2] != b'"':
                    rest = rest[end + 1 :]
                    break
                content += b'"'
                rest = rest[end + 2 :]
        found = self._plain_end.search(rest)  # then unquoted up to a separator or line end
        if found is None:
            return False
        return _NUMBER_BODY.fullmatch(content + rest[: found.start()]) is not None

"""The one streaming pass over the file: the exact number of records pandas will read,
the row, cell and length limits enforced as it goes, and (riding along) the formula
cell count and the encoding check.

Works on bytes, not text: in UTF-8 and in the single-byte codecs we accept, the
structural characters (separators, quote, CR, LF, formula prefixes) are ASCII and
never occur inside a multi-byte character; UTF-16/32 files are re-encoded to UTF-8 on
the fly. The file is never loaded whole: the pass holds a few 1 MiB steps.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ...exceptions import TableError
from ..limits import Limits
from .chunks import CR, LF, QUOTE, TAB, Chunk, ChunkReader
from .encoding import CheckKind, EncodingCheck
from .formula_cells import FormulaCounter
from .head import WIDE_CODECS, Head, undecodable
from .quoting import QuoteTracker, Quoting

__all__ = ["RecordScanner", "scan"]

_SPACE = ord(" ")


class RecordScanner:
    """One streaming pass over the bytes: exact record count, limits, formula cells, UTF-8.

    It mirrors the tokenizer of pandas' C parser: a quote opens a quoted field only at
    the start of a field, ``""`` inside quotes is a literal quote, CR, LF and CRLF all
    end a record outside quotes, and records holding only spaces and tabs are skipped.
    Formula-like cells are counted in the first ``FORMULA_SAMPLE`` bytes only: finding
    every ``-`` in a file full of dates and negative numbers costs more than the rest of
    the pass together.
    """

    def __init__(
        self, sep: str, limits: Limits, columns: int, header_rows: int, check: CheckKind
    ) -> None:
        self._sep = ord(sep)
        self._limits = limits
        self._columns = max(columns, 1)
        self._header_rows = header_rows
        self._quotes = QuoteTracker(self._sep)
        self._last_boundary = -1  # stream offset of the last record end
        # The record being read: its first byte (-1 while empty), and whether every byte
        # after the first is blank; and whether the last record was skipped as blank and
        # ended with a lone CR (then pandas drops a separator that follows: see _blank_records).
        self._open_first = self._open_second = -1
        self._open_rest_blank = True
        self._skipped_by_cr = False
        self._ended_by_cr = False  # the last record ended with a lone CR
        self.records = 0  # complete non-blank records
        self.size = 0
        self._formulas = FormulaCounter(self._sep)
        blanks = b" \r" if sep == "\t" else b" \t\r"
        self._non_blank = re.compile(b"[^" + blanks + b"]")
        self._blanks = frozenset(blanks)
        self._blank_bytes = np.frombuffer(blanks, dtype=np.uint8)
        self._check = check
        self.encoding = EncodingCheck(check)

    @property
    def rows(self) -> int:
        return max(self.records - self._header_rows, 0)

    @property
    def formula_cells(self) -> int:
        return self._formulas.cells

    @property
    def formula_cells_sampled(self) -> bool:
        return self._formulas.end < self.size

    def run(self, readinto: Callable[[memoryview], int]) -> None:
        """Feed the whole stream through; raises as soon as a limit is crossed."""
        reader = ChunkReader(readinto, self._sep, self._check != "none")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsagent-csv") as ahead:
            pending = ahead.submit(reader.next)
            while True:
                chunk = pending.result()
                if not chunk.eof:
                    pending = ahead.submit(reader.next)
                self.encoding.step(chunk)
                self._step(chunk)
                if chunk.eof:
                    break
        self.size = reader.size
        self._finish(chunk)

    def _finish(self, chunk: Chunk) -> None:
        self.encoding.finish(chunk.base + chunk.hi)
        if self._quotes.in_quote:
            raise TableError(
                'The file ends inside a quoted field: a " opens a field that never closes.',
                code="csv_invalid",
            )
        first, second, rest_blank = self._open_first, self._open_second, self._open_rest_blank
        if first >= 0 and not self._blank_record(first, rest_blank, self._skipped_by_cr):
            ended_cr = self._ended_by_cr
            if self._misread_after_cr(first, second, ended_cr, self._skipped_by_cr):
                raise _misread_error(self.records + 1)
            self._count_lead_tab(self._last_boundary + 1, first, second, ended_cr)
            self.records += 1
        self._check_rows()

    def _step(self, chunk: Chunk) -> None:
        if chunk.hi <= chunk.lo:
            return
        start_quote, toggled_before = self._quotes.in_quote, self._quotes.last_toggles
        toggle = self._quotes.toggle_mask(chunk) if QUOTE in chunk.present else None
        rank = None if toggle is None else np.cumsum(toggle.view(np.uint8), dtype=np.int32)
        ends = self._record_ends(chunk, rank, start_quote)
        if chunk.formulas:
            toggles = chunk.positions[toggle] if toggle is not None else chunk.positions[:0]
            self._formulas.count(chunk, Quoting(toggles, rank, start_quote, toggled_before))
        self._count(chunk, ends)

    def _record_ends(
        self, chunk: Chunk, rank: npt.NDArray[np.int32] | None, start_quote: int
    ) -> npt.NDArray[np.intp]:
        """LF, and CR not followed by LF, outside quotes."""
        positions, kinds = chunk.positions, chunk.kinds
        is_end = kinds == LF
        if CR in chunk.present:
            crs = np.flatnonzero(kinds == CR)
            is_end[crs[chunk.arr[chunk.lo + positions[crs] + 1] != LF]] = True
        index = np.flatnonzero(is_end)
        if rank is not None:  # toggles up to each line end: odd means inside quotes
            index = index[((start_quote + rank[index]) & 1) == 0]
        elif start_quote:
            index = index[:0]
        return positions[index]

    def _count(self, chunk: Chunk, ends: npt.NDArray[np.intp]) -> None:
        """Count the records ending in this step and check the length limit."""
        origin = chunk.base + chunk.lo
        if len(ends):
            stops = ends + origin
            starts = np.empty_like(stops)
            starts[0] = self._last_boundary + 1
            starts[1:] = stops[:-1] + 1
            lengths = stops - starts
            self._check_length(int(lengths.max()))
            blank = self._blank_records(chunk, starts, stops, lengths)
            self.records += len(stops) - int(np.count_nonzero(blank))
            self._ended_by_cr = bool(chunk.arr[stops[-1] - chunk.base] == CR)
            self._skipped_by_cr = bool(blank[-1]) and self._ended_by_cr
            self._last_boundary = int(stops[-1])
            self._open_first = self._open_second = -1
            self._open_rest_blank = True
        self._follow_open_record(chunk)
        self._check_rows()

    def _follow_open_record(self, chunk: Chunk) -> None:
        """Track the first two bytes of the record still open and whether all but the
        first are blank."""
        start, hi = self._last_boundary + 1 - chunk.base, chunk.hi
        self._check_length(hi - start)
        if start >= hi:
            return
        if start >= chunk.lo:
            self._open_first = int(chunk.arr[start])
            self._open_rest_blank = self._non_blank.search(chunk.buf, start + 1, hi) is None
        elif self._open_rest_blank:
            self._open_rest_blank = self._non_blank.search(chunk.buf, chunk.lo, hi) is None
        if self._open_second < 0 and chunk.lo <= start + 1 < hi:
            self._open_second = int(chunk.arr[start + 1])

    def _blank_record(self, first: int, rest_blank: bool, after_skipped_cr: bool) -> bool:
        """Whether pandas skips a record, from its first byte and the blankness of the rest."""
        if not rest_blank:
            return False
        return first in self._blanks or (first == self._sep and after_skipped_cr)

    def _blank_records(
        self,
        chunk: Chunk,
        starts: npt.NDArray[np.intp],
        stops: npt.NDArray[np.intp],
        lengths: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.bool_]:
        """Records pandas skips: empty, or only spaces, tabs and the CR of a CRLF.

        One quirk of its tokenizer: after skipping a blank line that ends with a lone CR,
        it drops a separator that comes next, so a following ``,`` line is blank too.
        """
        base = chunk.base
        origin = base + chunk.lo
        blank = lengths == 0
        first = chunk.arr[np.maximum(starts - base, 0)]
        if starts[0] < origin:  # began in an earlier step
            first[0] = self._open_first
        ended_by_cr = chunk.arr[stops - base] == CR
        maybe = (first == self._sep) | (first == _SPACE) | (first == CR)
        if TAB in self._blanks:
            maybe |= first == TAB
        maybe &= ~blank
        kept = self._plainly_kept(chunk, starts, stops, maybe)
        maybe &= ~kept
        misread = len(starts)  # the first record pandas would misread, if any
        for index in np.flatnonzero(maybe).tolist():
            start, stop = int(starts[index]), int(stops[index]) - base
            if start >= origin:
                rest_blank = self._non_blank.search(chunk.buf, start - base + 1, stop) is None
            else:
                rest_blank = self._open_rest_blank
                rest_blank = (
                    rest_blank and self._non_blank.search(chunk.buf, chunk.lo, stop) is None
                )
            ended_cr = bool(ended_by_cr[index - 1]) if index else self._ended_by_cr
            skipped_cr = bool(blank[index - 1]) and ended_cr if index else self._skipped_by_cr
            blank[index] = self._blank_record(int(first[index]), rest_blank, skipped_cr)
            if not blank[index]:
                second = (
                    self._open_second if start + 1 < origin else int(chunk.arr[start - base + 1])
                )
                if self._misread_after_cr(int(first[index]), second, ended_cr, skipped_cr):
                    misread = index
                    break
                self._count_lead_tab(start, int(first[index]), second, ended_cr)
        misread = self._settle_kept(chunk, starts, first, blank, ended_by_cr, kept, misread)
        if misread < len(starts):
            raise _misread_error(
                self.records + misread + 1 - int(np.count_nonzero(blank[:misread]))
            )
        return blank

    def _plainly_kept(
        self,
        chunk: Chunk,
        starts: npt.NDArray[np.intp],
        stops: npt.NDArray[np.intp],
        maybe: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.bool_]:
        """Candidate records whose second byte is not blank: kept, whatever follows.

        Most candidates are like that (an empty first cell, a tab before text), so they
        are settled here at once instead of one by one.
        """
        inside = maybe & (starts >= chunk.base + chunk.lo) & (starts + 1 < stops)
        kept = np.zeros_like(maybe)
        kept[inside] = ~np.isin(chunk.arr[starts[inside] - chunk.base + 1], self._blank_bytes)
        return kept

    def _settle_kept(
        self,
        chunk: Chunk,
        starts: npt.NDArray[np.intp],
        first: npt.NDArray[np.uint8],
        blank: npt.NDArray[np.bool_],
        ended_by_cr: npt.NDArray[np.bool_],
        kept: npt.NDArray[np.bool_],
        misread: int,
    ) -> int:
        """For the records :meth:`_plainly_kept` settled, what the loop does one by one:
        the misread check and the tabs that lead them. Returns the first misread record
        (``misread`` if none comes before it)."""
        index = np.flatnonzero(kept[:misread])
        if not index.size:
            return misread
        before = np.maximum(index - 1, 0)
        ended_cr = np.where(index > 0, ended_by_cr[before], self._ended_by_cr)
        skipped_cr = np.where(index > 0, blank[before] & ended_cr, self._skipped_by_cr)
        firsts = first[index]
        seconds = chunk.arr[starts[index] - chunk.base + 1]
        lead = np.where((firsts == self._sep) & skipped_cr, seconds, firsts)
        bad = ended_cr & np.isin(lead, self._blank_bytes)
        if bad.any():
            return int(index[np.argmax(bad)])
        if self._sep != TAB:  # a kept record's second byte is never a tab: only a leading one
            self._formulas.count_record_leads(starts[index][firsts == TAB])
        return misread

    def _count_lead_tab(self, start: int, first: int, second: int, ended_cr: bool) -> None:
        """A formula cell for a tab leading a record that pandas keeps (it starts at ``start``).

        The formula counter leaves these tabs to the pass, which alone knows, once the
        record has ended, whether pandas skips it as blank: a tab that opens the record,
        or one after the separator that opens it right after a lone-CR line end (that
        separator is dropped when the line before was skipped as blank; the record is
        then blank or refused, but if it was not skipped the tab starts an ordinary cell).
        """
        if self._sep == TAB:
            return
        if first == TAB:
            self._formulas.count_record_lead(start)
        elif first == self._sep and second == TAB and ended_cr:
            self._formulas.count_record_lead(start + 1)

    def _misread_after_cr(self, first: int, second: int, ended_cr: bool, skipped_cr: bool) -> bool:
        """pandas misreads a line that starts with blanks after a lone-CR line end.

        Its tokenizer, unsure whether such a line is blank, steps back to the last LF to
        re-read it; with CR line ends that is several lines back, and it repeats rows.
        (After a skipped blank line it first drops a separator; then the next byte counts.)
        """
        lead = second if first == self._sep and skipped_cr else first
        return ended_cr and lead in self._blanks

    def _check_length(self, length: int) -> None:
        limit = self._limits.max_csv_field_bytes
        if length > limit:
            raise TableError(
                f"A line or field is longer than {limit:,} bytes, the limit "
                "(DSAgent.max_csv_field_bytes).",
                code="csv_invalid",
            )

    def _check_rows(self) -> None:
        rows, limits = self.rows, self._limits
        if rows > limits.max_csv_rows:
            raise TableError(
                f"The table has more than {limits.max_csv_rows:,} rows; the limit is "
                f"{limits.max_csv_rows:,}.",
                code="csv_too_many_rows",
            )
        if rows * self._columns > limits.max_csv_cells:
            raise TableError(
                f"The table has more than {limits.max_csv_cells:,} cells ({self._columns:,} "
                f"columns); the limit is {limits.max_csv_cells:,} cells.",
                code="csv_too_many_rows",
            )


def _misread_error(number: int) -> TableError:
    return TableError(
        f"Record {number:,} starts with a space or tab right after a carriage-return "
        "line end, which pandas misreads (it repeats earlier lines).",
        code="csv_invalid",
    )


class _WideToUtf8:
    """Re-encode a UTF-16/32 file to UTF-8 on the fly so the scanner sees ASCII structure."""

    def __init__(self, handle: io.FileIO, codec: str) -> None:
        self._handle = handle
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending = b""
        self._eof = False

    def readinto(self, target: memoryview) -> int:
        while len(self._pending) < len(target) and not self._eof:
            raw = self._handle.read(len(target))
            self._eof = not raw
            try:
                self._pending += self._decoder.decode(raw, self._eof).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise undecodable(self._codec) from exc
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def scan(
    path: Path,
    head: Head,
    provisional: str,
    sep: str,
    limits: Limits,
    columns: int,
    header: int | None,
) -> RecordScanner:
    """The counting pass, with the encoding check the head calls for."""
    check: CheckKind
    if head.bom_codec in WIDE_CODECS:
        check = "none"
    elif head.bom_codec is not None:
        check = "utf-8-bom"
    else:
        check = "utf-8" if provisional == "utf-8" else "high-bytes"
    scanner = RecordScanner(sep, limits, columns, 0 if header is None else 1, check)
    with path.open("rb", buffering=0) as handle:
        if head.bom_codec in WIDE_CODECS:
            scanner.run(_WideToUtf8(handle, head.bom_codec or "").readinto)
        else:
            handle.seek(len(head.bom))
            scanner.run(handle.readinto)
    return scanner

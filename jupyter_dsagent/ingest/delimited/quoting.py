"""Which quotes open or close a quoted field, step by step, so the pass can tell line
ends and cell starts inside quotes from those outside.

The rule is pandas' C tokenizer's: a quote opens a quoted field only at the start of a
field, and ``""`` inside quotes is a literal quote. Quote parity (a running count of
the quotes that toggled) then says whether any byte is inside quotes. A quote in the
middle of an unquoted field (``5'10"``) breaks the parity rule; only a step that holds
one falls back to walking its quotes one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from .chunks import QUOTE, Chunk, is_field_start

__all__ = ["QuoteTracker", "Quoting"]

_LITERAL_QUOTES_VECTORISED: Final = 32  # beyond this many in one step, walk them in Python


@dataclass(frozen=True)
class Quoting:
    """Quote state of one step, to ask "inside quotes?" and "did this quote toggle?"."""

    toggles: npt.NDArray[np.intp]  # offsets of the quotes that opened or closed a field
    rank: npt.NDArray[np.int32] | None  # toggles up to each watched byte
    start: int  # 1 when the step starts inside a quoted field
    toggled_before: tuple[int, int]  # stream offsets of the last two toggles before the step

    def inside(self, index: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """1 where the watched byte number ``index`` (not itself a quote) is inside quotes."""
        if self.rank is None:
            return np.full(len(index), self.start, dtype=np.intp)
        return (self.start + self.rank[index]) & 1

    def opens(self) -> npt.NDArray[np.bool_]:
        """Which of ``toggles`` open a quoted field (the others close one)."""
        first = 1 - self.start  # the first toggle opens unless the step starts inside
        return (np.arange(len(self.toggles)) & 1) != first

    def toggled(self, offsets: npt.NDArray[np.intp], origin: int) -> npt.NDArray[np.bool_]:
        """Whether the quote at each offset (from the step start ``origin``) toggled."""
        hit = np.zeros(len(offsets), dtype=bool)
        if len(self.toggles):
            found = np.searchsorted(self.toggles, offsets)
            hit = self.toggles[np.minimum(found, len(self.toggles) - 1)] == offsets
        earlier = origin + offsets
        earlier_hit = (earlier == self.toggled_before[0]) | (earlier == self.toggled_before[1])
        return hit | ((offsets < 0) & earlier_hit)


class QuoteTracker:
    """Carries the quote state across steps and finds the quotes that toggle in each."""

    def __init__(self, sep: int) -> None:
        self._sep = sep
        self.in_quote = 0
        self.last_toggles = (-3, -2)  # stream offsets of the last two quotes that toggled

    def toggle_mask(self, chunk: Chunk) -> npt.NDArray[np.bool_]:
        """Which watched bytes are quotes that open or close a quoted field."""
        is_quote = chunk.kinds == QUOTE
        index = np.flatnonzero(is_quote)
        quotes = chunk.positions[index]
        keep = self._literal_quotes_out(chunk, quotes)
        if keep is None:  # parity holds: every quote opens or closes
            toggles, toggle = quotes, is_quote
        else:
            toggles = quotes[keep]
            toggle = np.zeros(len(chunk.positions), dtype=bool)
            toggle[index[keep]] = True
        self.in_quote = (self.in_quote + len(toggles)) & 1
        origin = chunk.base + chunk.lo
        for position in toggles[-2:].tolist():
            self.last_toggles = (self.last_toggles[1], origin + position)
        return toggle

    def _literal_quotes_out(
        self, chunk: Chunk, quotes: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.bool_] | None:
        """None when every quote toggles, else which quotes do (literal ones do not).

        Parity says quotes alternate between opening and closing. An opening one must
        sit at a field start or right after a closing quote (``""``); one that does not
        is a literal character inside an unquoted field (``5'10"``), and the quotes
        after it shift by one: the next opening slot is the very next quote.
        """
        before = chunk.arr[chunk.lo + quotes - 1]
        adjacent = before == QUOTE
        adjacent[1:] &= quotes[1:] - quotes[:-1] == 1
        adjacent[:1] &= self.last_toggles[1] == chunk.base + chunk.lo - 1
        at_start = is_field_start(before, self._sep)
        toggled = np.ones(len(quotes), dtype=bool)
        slot = self.in_quote  # index of the first quote that would open
        for _ in range(_LITERAL_QUOTES_VECTORISED):
            slots = np.arange(slot, len(quotes), 2)
            closed_before = toggled[np.maximum(slots - 1, 0)]  # slot 0: see adjacent[0]
            closed_before[:1] |= slot == 0
            wrong = np.flatnonzero(~(at_start[slots] | (adjacent[slots] & closed_before)))
            if not len(wrong):
                return None if toggled.all() else toggled
            literal = int(slots[wrong[0]])
            toggled[literal] = False
            slot = literal + 1
        return self._walk_quotes(quotes, at_start, adjacent, toggled, slot)

    def _walk_quotes(
        self,
        quotes: npt.NDArray[np.intp],
        at_start: npt.NDArray[np.bool_],
        adjacent: npt.NDArray[np.bool_],
        toggled: npt.NDArray[np.bool_],
        first: int,
    ) -> npt.NDArray[np.bool_]:
        """The same rule one quote at a time, from ``first`` (outside quotes) onwards."""
        inside, opens, after_quote = False, at_start.tolist(), adjacent.tolist()
        closed = True  # whether the quote before ``first`` toggled (it closed, or there is none)
        if first:
            closed = bool(toggled[first - 1])
        for number in range(first, len(quotes)):
            if inside or opens[number] or (after_quote[number] and closed):
                inside, closed = not inside, inside
            else:
                toggled[number], closed = False, False
        return toggled

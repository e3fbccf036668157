"""Characters that machines and people confuse when they read a document number.

OCR of the MRZ (OCR-B) and people copying a number from a photocopy confuse
the same few shapes. Each class below holds characters read for one
another; the first character of a class is its representative:

- ``0 O D Q``: round shapes;
- ``1 I L``: upright strokes;
- ``2 Z``, ``5 S``, ``6 G``, ``8 B``: the digit and the letter of the same outline;
- ``U V``: open bowls, a classic OCR and handwriting confusion.

The classes are kept apart on purpose (``7``/``T``/``1`` are not joined to
``1 I L``): merging classes would make every member of one stand for every
member of the other, and a tolerant search would then report numbers nobody
could misread.

Two numbers are *confusable* when they have the same length and at every
position either the same character or two characters of one class; the
:func:`canonical` form (each character replaced by its class
representative) is equal exactly then.
"""

from __future__ import annotations

from dataclasses import dataclass

OCR_CONFUSION_CLASSES: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "6G", "8B", "UV")

CANONICAL_MAP: dict[str, str] = {ch: group[0] for group in OCR_CONFUSION_CLASSES for ch in group}
_TRANSLATION = str.maketrans(CANONICAL_MAP)

# Each OCR confusion multiplies a candidate's score by this; an exact match scores 1.
CONFUSION_SCORE_FACTOR = 0.9


@dataclass(frozen=True, slots=True)
class Confusion:
    """One position where a number read differs from the register's (1-based ``position``)."""

    position: int
    read: str
    registered: str

    def explain(self) -> str:
        return f"position {self.position}: read {self.read!r}, register has {self.registered!r}"


def canonical(number: str) -> str:
    """``number`` with every confusable character replaced by its class representative."""
    return number.translate(_TRANSLATION)


def confusions(read: str, registered: str) -> tuple[Confusion, ...] | None:
    """The positions where ``read`` differs from ``registered``; None if they are not confusable.

    An empty tuple means the two are equal. Numbers of different lengths are
    never confusable (a dropped or doubled character is not an OCR confusion
    this register tolerates).
    """
    if len(read) != len(registered):
        return None
    found: list[Confusion] = []
    for position, (a, b) in enumerate(zip(read, registered, strict=True), start=1):
        if a == b:
            continue
        if CANONICAL_MAP.get(a, a) != CANONICAL_MAP.get(b, b):
            return None
        found.append(Confusion(position, a, b))
    return tuple(found)


def confusion_score(count: int) -> float:
    """The score of a candidate whose number differs by ``count`` confusions (1.0 for none)."""
    return float(CONFUSION_SCORE_FACTOR**count)

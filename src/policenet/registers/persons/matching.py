"""Comparing two names: align their tokens, score the whole, say why in plain words.

The tokens of the two names are aligned whatever their order (a surname
first on one document and last on another), each token used once, the
strongest pairs first (see :mod:`.tokens` for how two tokens compare); a
token may also match two neighbouring tokens written joined ("Binalshibh",
"bin al shibh"). Then the score is the mean similarity of the aligned pairs,
lowered for what did not align:

- a name part present in one name and absent from the other (a dropped
  middle name, a patronymic left out) costs little: documents differ so;
- a name part on each side that matches nothing on the other (a different
  surname, another given name) is a *conflict*, and costs a lot: most
  different people with similar names differ in just one part;
- a name that agrees with another on a single part only, while the other has
  more, is weak evidence however exact that part is.

The score is in [0, 1]; :data:`THRESHOLD` is where a candidate becomes a
possible hit. The explanation lists each aligned pair and how it matched,
then what was missing and what conflicted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from policenet.registers.persons.names import ParsedName, Part, Role, Token
from policenet.registers.persons.tokens import (
    NO_MATCH,
    SIMILARITY,
    How,
    TokenMatch,
    compare_characters,
    compare_tokens,
    sound_key,
    spelling_key,
)

THRESHOLD = 0.7
"""Name score at or above which two names are taken as the same person's."""

CONFLICT_FACTOR = 0.55
"""What each conflicting name part multiplies the score by."""
MISSING_FACTOR = 0.93
"""What each name part present on one side only multiplies the score by."""
THIN_FACTOR = 0.75
"""What each missing part multiplies the score by when only one name part agrees."""
PARTICLE_FACTOR = 0.98
"""What each unmatched particle (al, bin, von) multiplies the score by."""


@dataclass(frozen=True, slots=True)
class Pair:
    """Tokens of the two names that were aligned (``right`` may be two tokens written joined)."""

    left: tuple[Token, ...]
    right: tuple[Token, ...]
    match: TokenMatch


@dataclass(frozen=True, slots=True)
class NameComparison:
    """The result of :func:`compare_names`: score, alignment and what did not align."""

    score: float
    pairs: tuple[Pair, ...]
    missing: tuple[Token, ...]
    """Name parts found on one side only."""
    conflicts: tuple[tuple[Token, Token], ...]
    """Name parts on each side that match nothing on the other, paired as they stand."""

    @property
    def matched(self) -> bool:
        return self.score >= THRESHOLD

    def explanation(self) -> tuple[str, ...]:
        """One line per aligned pair, then missing parts, then conflicts, in plain words."""
        lines = [
            f"{_part(p.left[0])} {_show(p.left)} ~ {_show(p.right)}: {p.match.how.value}"
            + (f" ({p.match.edits} edits)" if p.match.edits > 1 else "")
            for p in self.pairs
            if p.left[0].role is Role.NAME or p.right[0].role is Role.NAME
        ]
        lines += [f"{_part(t)} {_show((t,))} is missing from the other name" for t in self.missing]
        lines += [
            f"{_part(a)} {_show((a,))} conflicts with {_show((b,))}" for a, b in self.conflicts
        ]
        return tuple(lines)


def _part(token: Token) -> str:
    return {
        Part.GIVEN: "given name",
        Part.SURNAME: "surname",
        Part.PATRONYMIC: "patronymic",
        Part.UNKNOWN: "name",
    }[token.part]


def _show(tokens: tuple[Token, ...]) -> str:
    text = " ".join(t.text.capitalize() for t in tokens)
    originals = dict.fromkeys(t.original for t in tokens if not t.original.isascii())
    return f"'{text}'" + (f" ({' '.join(originals)})" if originals else "")


_WEIGHT = {Role.NAME: 1.0, Role.PARTICLE: 0.2}


_SYLLABIC = ("CJK", "HANGUL")


def _syllabic(token: Token) -> str | None:
    return _script_of_first(token.original[:1])


@lru_cache(maxsize=4096)
def _script_of_first(first: str) -> str | None:
    if first.isascii():
        return None
    name = unicodedata.name(first, "")
    return next((s for s in _SYLLABIC if name.startswith(s)), None)


def _other_roles(a: Token, b: Token) -> bool:
    """A father's name against the person's own (Salman bin Muhammad, Muhammad bin Salman):
    the same names in other roles are another person."""
    return (
        Part.UNKNOWN not in (a.part, b.part)
        and Part.PATRONYMIC in (a.part, b.part)
        and a.part is not b.part
    )


def _compare(a: Token, b: Token) -> TokenMatch:
    match = compare_tokens(a.text, b.text, a.abjad or b.abjad)
    script = _syllabic(a)
    if script is not None and script == _syllabic(b):
        match = compare_characters(a.original, b.original, match)
    if match.how is NO_MATCH.how:
        return match
    if _other_roles(a, b):
        return NO_MATCH
    if a.role is not b.role and match.how not in (How.EXACT, How.SPELLING):
        return NO_MATCH  # a particle ("al") is not a short name ("Ali")
    return match


def _joined(
    one: Token, many: tuple[Token, ...], start: int
) -> Iterator[tuple[tuple[Token, ...], TokenMatch]]:
    """``one`` against two or three neighbours of ``many`` written together."""
    if len(one.text) < 5 or start + 1 >= len(many):
        return
    first = many[start]
    abjad = one.abjad or first.abjad
    if not abjad and first.text[0] != one.text[0]:
        return  # cheap tests first: this runs for every pair of tokens
    written = first.text
    for width in (2, 3):
        if start + width > len(many):
            return
        last = many[start + width - 1]
        written += last.text
        abjad = abjad or last.abjad
        run = many[start : start + width]
        if not abjad and abs(len(written) - len(one.text)) > 2:
            continue
        if any(_other_roles(one, t) for t in run):
            continue
        if abjad:
            # Arabic compounds written apart or together (عبد الرحمن, Abdelrahman): compare
            # their consonants, as for any word from a script without vowels
            if sound_key(one.text, True) == sound_key(written, True):
                yield run, TokenMatch(SIMILARITY[How.PHONETIC], How.JOINED)
            continue
        joined = compare_tokens(one.text, written)
        if joined.how in (How.EXACT, How.SPELLING) or (
            joined.how is How.TYPO and joined.edits <= 1
        ):
            yield run, TokenMatch(SIMILARITY[How.JOINED], How.JOINED)


def _candidates(left: tuple[Token, ...], right: tuple[Token, ...]) -> list[Pair]:
    pairs: list[Pair] = []
    for a in left:
        for j, b in enumerate(right):
            match = _compare(a, b)
            if match.how is not How.NONE:
                pairs.append(Pair((a,), (b,), match))
            pairs += [Pair((a,), run, m) for run, m in _joined(a, right, j)]
    for b in right:
        for i in range(len(left)):
            pairs += [Pair(run, (b,), m) for run, m in _joined(b, left, i)]
    return pairs


def _align(left: tuple[Token, ...], right: tuple[Token, ...]) -> list[Pair]:
    """Greedy alignment: strongest pairs first, names before particles, each token once."""
    index_l = {id(t): i for i, t in enumerate(left)}
    index_r = {id(t): i for i, t in enumerate(right)}

    def strength(p: Pair) -> tuple[float, float, int]:
        weight = max(_WEIGHT[t.role] for t in (*p.left, *p.right))
        # among equals, keep the written order (first with first)
        drift = abs(
            index_l[id(p.left[0])] / max(len(left), 1)
            - index_r[id(p.right[0])] / max(len(right), 1)
        )
        return (p.match.similarity * weight, -drift, len(p.left) + len(p.right))

    used_l: set[int] = set()
    used_r: set[int] = set()
    chosen: list[Pair] = []
    for pair in sorted(_candidates(left, right), key=strength, reverse=True):
        ids_l = {id(t) for t in pair.left}
        ids_r = {id(t) for t in pair.right}
        if ids_l & used_l or ids_r & used_r:
            continue
        used_l |= ids_l
        used_r |= ids_r
        chosen.append(pair)
    chosen.sort(key=lambda p: index_l[id(p.left[0])])
    return chosen


def token_keys(name: ParsedName) -> Iterator[str]:
    """The keys a name is found by: the spelling and sound key of each name token."""
    for token in name.tokens:
        if token.role is not Role.NAME or len(token.text) < 2:
            continue
        yield "s" + spelling_key(token.text)
        sound = sound_key(token.text, token.abjad)
        if len(sound) >= 2:
            yield "k" + sound


@lru_cache(maxsize=262_144)
def name_keys(name: ParsedName) -> frozenset[str]:
    """:func:`token_keys` as a set (cached: the same names are compared again and again)."""
    return frozenset(token_keys(name))


def compare_names(left: ParsedName, right: ParsedName) -> NameComparison:
    """Compare two parsed names (see the module docstring); symmetric up to ties."""
    pairs = _align(left.tokens, right.tokens)
    aligned = {id(t) for p in pairs for t in (*p.left, *p.right)}
    rest_l = [t for t in left.tokens if id(t) not in aligned]
    rest_r = [t for t in right.tokens if id(t) not in aligned]
    named_pairs = [p for p in pairs if any(t.role is Role.NAME for t in (*p.left, *p.right))]
    if not named_pairs:
        return NameComparison(0.0, tuple(pairs), (), ())
    total = sum(max(_WEIGHT[t.role] for t in (*p.left, *p.right)) for p in pairs)
    score = (
        sum(max(_WEIGHT[t.role] for t in (*p.left, *p.right)) * p.match.similarity for p in pairs)
        / total
    )
    names_l = [t for t in rest_l if t.role is Role.NAME]
    names_r = [t for t in rest_r if t.role is Role.NAME]
    # unmatched parts on both sides are conflicts: patronymic with patronymic first, then
    # the others, then whatever is left (a surname that only looks like a patronymic,
    # Belovich, against another surname); a part left over on one side only is missing
    pat_l = [t for t in names_l if t.part is Part.PATRONYMIC]
    pat_r = [t for t in names_r if t.part is Part.PATRONYMIC]
    other_l = [t for t in names_l if t.part is not Part.PATRONYMIC]
    other_r = [t for t in names_r if t.part is not Part.PATRONYMIC]
    conflicts: list[tuple[Token, Token]] = list(zip(pat_l, pat_r, strict=False))
    conflicts += zip(other_l, other_r, strict=False)
    left_over_l = pat_l[len(pat_r) :] + other_l[len(other_r) :]
    left_over_r = pat_r[len(pat_l) :] + other_r[len(other_l) :]
    conflicts += zip(left_over_l, left_over_r, strict=False)
    in_conflict = {id(t) for pair in conflicts for t in pair}
    missing = [t for t in (*names_l, *names_r) if id(t) not in in_conflict]
    score *= CONFLICT_FACTOR ** len(conflicts)
    thin = len(named_pairs) == 1 and len(left.names) + len(right.names) > 2
    for token in missing:
        if token.part is Part.PATRONYMIC:
            continue
        score *= THIN_FACTOR if thin else MISSING_FACTOR
    particles = [t for t in (*rest_l, *rest_r) if t.role is Role.PARTICLE]
    score *= PARTICLE_FACTOR ** len(particles)
    return NameComparison(round(score, 4), tuple(pairs), tuple(missing), tuple(conflicts))


__all__ = ["SIMILARITY", "THRESHOLD", "NameComparison", "compare_names"]

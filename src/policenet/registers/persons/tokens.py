"""How two name tokens compare: exactly, as spelling variants, by sound, by typo, by initial.

Every comparison returns a :class:`TokenMatch` with a similarity in [0, 1]
and the way the tokens matched, which the explanation shows an officer. The
ways, from strongest to weakest:

- ``exact``: the same letters once written in Latin letters;
- ``spelling``: the same after folding spelling variants that transliteration
  systems and languages disagree on (ph/f, kh/h, ou/u, y/i, w/v, doubled
  letters...): Mohammed and Muhammad, Qaddafi and Gaddafi are not typos;
- ``nickname``: a known short form (Bill for William, Bibi for Benjamin);
- ``phonetic``: the same consonants in the same order (sound classes), the
  usual result of writing a name by ear, and how Arabic and Hebrew names
  (written without most vowels) are compared;
- ``typo``: within a small edit distance (one edit up to 7 letters, two
  from 8), counting a swap of neighbours as one edit;
- ``initial``: one token is the first letter of the other.

Anything else is no match (similarity 0). The rules are fixed here, in one
place, so that a score means the same thing for every record.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from policenet.registers.persons.nicknames import same_person_name


class How(enum.StrEnum):
    EXACT = "exact"
    SPELLING = "spelling variant"
    NICKNAME = "nickname"
    PHONETIC = "sounds alike"
    TYPO = "typo"
    INITIAL = "initial"
    JOINED = "written joined"
    NONE = "no match"


SIMILARITY = {
    How.EXACT: 1.0,
    How.SPELLING: 0.95,
    How.JOINED: 0.95,
    How.NICKNAME: 0.9,
    How.PHONETIC: 0.85,
    How.TYPO: 0.85,
    How.INITIAL: 0.75,
    How.NONE: 0.0,
}
"""The similarity each way of matching gives (a typo loses 0.05 more per extra edit)."""


@dataclass(frozen=True, slots=True)
class TokenMatch:
    similarity: float
    how: How
    edits: int = 0


NO_MATCH = TokenMatch(0.0, How.NONE)

_SPELLING_RULES: tuple[tuple[str, str], ...] = (
    ("tsch", "c"),
    ("sch", "s"),
    ("tch", "c"),
    ("dzh", "j"),
    ("zh", "j"),
    ("dj", "j"),
    ("ph", "f"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("th", "t"),
    ("bh", "b"),
    ("sh", "s"),
    ("ch", "c"),
    ("ck", "k"),
    ("ks", "x"),
    ("q", "k"),
    ("w", "v"),
    ("y", "i"),
    ("eo", "o"),
    ("eu", "u"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ie", "i"),
    ("ei", "i"),
    ("ey", "i"),
    ("ae", "e"),
    ("oe", "o"),
    ("ue", "u"),
    ("z", "s"),
)
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def spelling_key(token: str) -> str:
    """The token with spelling variants folded (see the module docstring)."""
    key = token.replace("'", "").replace("`", "")
    for old, new in _SPELLING_RULES:
        key = key.replace(old, new)
    key = _DOUBLE.sub(r"\1", key)
    # a trailing h after a vowel is silent (Allah, Abdullah / Abdulla)
    if len(key) > 3 and key.endswith("h") and key[-2] in "aeiou":
        key = key[:-1]
    # Baltic nominative endings and Slavic -ej (Sergejs, Lavrovs / Sergey, Lavrov)
    if len(key) >= 6 and key.endswith("s") and key[-2] not in "aeiousx":
        key = key[:-1]
    if key.endswith("ej"):
        key = key[:-2] + "i"
    return key


_SOUND_CLASSES = str.maketrans(
    {
        "b": "p",
        "f": "p",
        "v": "p",
        "p": "p",
        "c": "k",
        "g": "k",
        "j": "k",
        "k": "k",
        "q": "k",
        "x": "k",
        "s": "s",
        "z": "s",
        "d": "t",
        "t": "t",
        "l": "l",
        "m": "m",
        "n": "n",
        "r": "r",
    }
)
_VOWELISH = re.compile(r"[aeiouyhw']")
_VOWEL_CARRIERS = re.compile(r"[wyv'`](?!$)|[wyv'`]$")


@lru_cache(maxsize=200_000)
def sound_key(token: str, abjad: bool = False) -> str:
    """Consonant sound classes in order, vowels and h/w/y dropped (not collapsed across a
    vowel: Mohamed is m-m-d, Ahmed m-d). ``abjad``: the token came from Arabic or Hebrew,
    whose w, y and v letters often stand for vowels and are dropped too.

    Kept coarse on purpose: it is what survives writing a name by ear, or in
    a script without vowels. Empty for a token of vowels only.
    """
    if abjad:
        token = _VOWEL_CARRIERS.sub("", token)
    folded = spelling_key(token)
    return _VOWELISH.sub("", folded).translate(_SOUND_CLASSES)


_VOWELS = re.compile(r"[aeiouy]")


def allowed_edits(length: int) -> int:
    """How many edits a typo may have in a token of ``length`` letters."""
    if length <= 3:
        return 0
    if length <= 7:
        return 1
    return 2


@lru_cache(maxsize=500_000)
def compare_tokens(a: str, b: str, abjad: bool = False) -> TokenMatch:
    """Compare two tokens (lower-case ASCII). ``abjad``: either came from Arabic or Hebrew."""
    if a == b:
        return TokenMatch(1.0, How.EXACT)
    if len(a) == 1 or len(b) == 1:
        if a[0] == b[0]:
            return TokenMatch(SIMILARITY[How.INITIAL], How.INITIAL)
        return NO_MATCH
    ka, kb = spelling_key(a), spelling_key(b)
    if ka == kb:
        return TokenMatch(SIMILARITY[How.SPELLING], How.SPELLING)
    if same_person_name(a, b):
        return TokenMatch(SIMILARITY[How.NICKNAME], How.NICKNAME)
    shorter = min(len(ka), len(kb))
    edits = min(OSA.distance(a, b), OSA.distance(ka, kb))
    allowed = allowed_edits(min(len(a), len(b)))
    sa, sb = sound_key(a, abjad), sound_key(b, abjad)
    sounds_alike = bool(sa) and sa == sb and (abjad or (len(sa) >= 3 and shorter >= 4))
    if edits <= allowed and (edits == 1 or not sounds_alike):
        return TokenMatch(SIMILARITY[How.TYPO] - 0.05 * (edits - 1), How.TYPO, edits)
    if sounds_alike:
        return TokenMatch(SIMILARITY[How.PHONETIC], How.PHONETIC)
    if abjad and sa and _DOUBLE.sub(r"\1", sa) == _DOUBLE.sub(r"\1", sb):
        # a doubled consonant is one letter with a mark that transliteration drops (Muammar)
        return TokenMatch(SIMILARITY[How.PHONETIC], How.PHONETIC)
    if shorter <= 3 and (ca := _VOWELS.sub("", ka)) and ca == _VOWELS.sub("", kb):
        # short syllables (Korean, Chinese) are romanised with varying vowels: Un / On
        return TokenMatch(SIMILARITY[How.PHONETIC], How.PHONETIC)
    if shorter >= 5 and sorted(a) == sorted(b):
        return TokenMatch(SIMILARITY[How.TYPO] - 0.1, How.TYPO, 2)
    return NO_MATCH


def compare_characters(a: str, b: str, reading: TokenMatch) -> TokenMatch:
    """Compare two tokens written in Chinese characters or Hangul by their characters.

    In these scripts a character is a syllable: a different character is a
    different name, however close the romanisations (习近平 and 习近朋). Han
    characters read the same (simplified and traditional forms) count as a
    spelling variant. ``reading`` is the comparison of their romanisations.
    """
    if a == b:
        return TokenMatch(1.0, How.EXACT)
    if reading.how is How.EXACT:
        return TokenMatch(SIMILARITY[How.SPELLING], How.SPELLING)
    return NO_MATCH

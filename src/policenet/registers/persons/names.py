"""Names as the persons register compares them: parsed, cleaned and written in Latin letters.

A name arrives in any script, with or without its parts marked. :func:`parse_name`
turns it into a :class:`ParsedName`: the original text, the script it was
written in, and its tokens in lower-case ASCII, each marked as a name part
(given name, surname, patronymic, unknown), a particle (al, bin, von, de la...)
or dropped as noise (titles such as Dr or Sheikh, legal forms such as LLC).

Transliteration uses ``anyascii`` (one table for every script) with three
additions where a table alone goes wrong:

- Arabic and Hebrew are written without most vowels: their tokens are marked
  ``abjad`` so that matching compares consonant skeletons; the Arabic article
  ``ال`` glued to a word becomes the particle ``al``;
- Chinese and Korean names written in characters come out as syllables: the
  first is the surname, the rest are joined into one given name ("习近平" →
  "xi jinping", "김정은" → "gim jeongeun");
- Japanese kana are read in Hepburn. Kanji have no single reading without a
  dictionary: a name in kanji is read in Mandarin, so it matches itself and
  Chinese forms, and an owner should give a kana or Latin alias as well.

Contract: :func:`parse_name` either returns a name with at least one name
token, or raises :class:`~policenet.errors.InvalidField` naming the field and
why (empty, over :data:`MAX_NAME_CHARS` or :data:`MAX_TOKENS`, no letters).
A name of nothing but titles or particles keeps them as its names (Sheikh
and Hajji are surnames too). Control
characters are treated as spaces; mixed scripts are allowed (each run is
transliterated by its own script).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from anyascii import anyascii

from policenet.errors import InvalidField

MAX_NAME_CHARS = 200
"""Longest name accepted, in characters after cleaning."""

MAX_TOKENS = 12
"""Most tokens a name may have (longer strings are text, not a name)."""


class Part(enum.StrEnum):
    """Which part of a name a token is, where known."""

    GIVEN = "given"
    SURNAME = "surname"
    PATRONYMIC = "patronymic"
    UNKNOWN = "name"


class Role(enum.StrEnum):
    """How much a token counts when names are compared."""

    NAME = "name"
    PARTICLE = "particle"
    """al, bin, von, de, la...: compared, but missing or extra ones cost little."""


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a name: its ASCII form, its part, its role, its source text."""

    text: str
    part: Part
    role: Role
    original: str
    abjad: bool = False
    """Transliterated from a script written without most vowels (Arabic, Hebrew)."""


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A name ready for comparison. ``tokens`` keep the order they were written in."""

    original: str
    script: str
    """The main script it was written in ("Latin", "Cyrillic", "Arabic", "Han"...)."""
    tokens: tuple[Token, ...]

    @property
    def names(self) -> tuple[Token, ...]:
        """The tokens that are names (not particles)."""
        return tuple(t for t in self.tokens if t.role is Role.NAME)

    @property
    def ascii(self) -> str:
        return " ".join(t.text for t in self.tokens)


def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLES = _vocabulary(
    """mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend fr father
    sheikh shaikh sheik shaykh hajji haji hadji mullah mulla maulana maulvi mawlawi moulavi
    imam ayatollah hojatoleslam emir amir general gen colonel col major maj captain capt
    lieutenant lt sergeant sgt admiral president minister senator judge hon honourable
    honorable excellency king queen prince princess"""
)
"""Titles and honorifics: dropped from names (the explanation says so)."""

LEGAL_FORMS = _vocabulary(
    """llc ltd limited inc incorporated corp corporation co company plc gmbh ag sa sarl sas
    srl spa bv nv oy ab as jsc pjsc ojsc cjsc ooo zao oao pao tov llp lp kg fze fzco fzc
    pte pvt sdn bhd"""
)
"""Legal forms of companies: noise in a person's name (a record "John Doe LLC")."""

PARTICLES = _vocabulary(
    """al el ul ur ud ad as an at az ibn bin bn bint ben ould abu um von van der den de del
    della dela la le les di da du dos das do y e zu ter ten st"""
)
"""Particles: kept and compared, but a missing or extra one costs little."""

_PATRONYMIC = re.compile(
    r"(?:ovich|evich|ovych|evych|ovitch|ovna|evna|ivna|ichna|ogly|oglu|kyzy|qizi)$"
)

_CJK_SYLLABIC = {"Han", "Hangul"}

KOREAN_SURNAMES = {
    "김": "kim",
    "이": "lee",
    "박": "park",
    "최": "choi",
    "정": "jung",
    "강": "kang",
    "조": "cho",
    "윤": "yoon",
    "장": "jang",
    "임": "lim",
    "한": "han",
    "오": "oh",
    "서": "seo",
    "신": "shin",
    "권": "kwon",
    "황": "hwang",
    "안": "ahn",
    "송": "song",
    "류": "ryu",
    "유": "yoo",
    "홍": "hong",
    "전": "jeon",
    "고": "ko",
    "문": "moon",
    "손": "son",
    "양": "yang",
    "배": "bae",
    "백": "baek",
    "허": "heo",
    "남": "nam",
    "노": "noh",
    "하": "ha",
    "곽": "kwak",
    "성": "sung",
    "차": "cha",
    "주": "joo",
    "우": "woo",
    "구": "koo",
    "민": "min",
    "나": "na",
}
"""The romanisation most bearers of the commonest Korean surnames use (Revised
Romanisation gives Gim, I, Bak, which almost nobody writes)."""
_ABJAD = {"Arabic", "Hebrew", "Syriac", "Thaana", "Khmer"}
"""Scripts whose transliteration loses or guesses most vowels: compared by consonants."""

_NASAB = frozenset({"bin", "ibn", "ben", "bint", "ould"})
"""Particles after which comes the father's name (Arabic and Berber nasab)."""

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})

_SCRIPT_OF_NAME = (
    ("CJK", "Han"),
    ("HANGUL", "Hangul"),
    ("HIRAGANA", "Kana"),
    ("KATAKANA", "Kana"),
    ("ARABIC", "Arabic"),
    ("HEBREW", "Hebrew"),
    ("CYRILLIC", "Cyrillic"),
    ("GREEK", "Greek"),
    ("ARMENIAN", "Armenian"),
    ("GEORGIAN", "Georgian"),
    ("DEVANAGARI", "Devanagari"),
    ("BENGALI", "Bengali"),
    ("THAI", "Thai"),
    ("KHMER", "Khmer"),
    ("ETHIOPIC", "Ethiopic"),
    ("SYRIAC", "Syriac"),
    ("THAANA", "Thaana"),
    ("LATIN", "Latin"),
)


@lru_cache(maxsize=4096)
def script_of(ch: str) -> str:
    """The script of one letter ("Latin", "Cyrillic"...; "Common" for anything else)."""
    if ch.isascii():
        return "Latin" if ch.isalpha() else "Common"
    name = unicodedata.name(ch, "")
    for prefix, script in _SCRIPT_OF_NAME:
        if name.startswith(prefix):
            return script
    return "Other" if ch.isalpha() else "Common"


def _runs(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into runs of one script; separators belong to no run."""
    runs: list[tuple[str, str]] = []
    current = ""
    chars: list[str] = []
    for ch in text:
        script = script_of(ch)
        if ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc"):
            if script in ("Common", "Other") and current:
                script = current  # combining marks and unnamed letters join their run
            if script != current and chars:
                runs.append((current, "".join(chars)))
                chars = []
            current = script
            chars.append(ch)
        else:
            if chars:
                runs.append((current, "".join(chars)))
                chars = []
            current = ""
            runs.append(("Common", ch))
    if chars:
        runs.append((current, "".join(chars)))
    return runs


def _clean(text: str, field: str) -> str:
    if not isinstance(text, str):
        raise InvalidField(field, "must be text")
    if len(text) > MAX_NAME_CHARS * 4:
        raise InvalidField(field, f"longer than {MAX_NAME_CHARS} characters")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise InvalidField(field, "is empty")
    if len(text) > MAX_NAME_CHARS:
        raise InvalidField(field, f"longer than {MAX_NAME_CHARS} characters ({len(text)})")
    return text


_CAMEL = re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z]{2})")
_SPLIT = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"(?<=\w)['’`ʼ](?=\w)")
_MARKS = re.compile(r"['`]")
_INITIALS = re.compile(r"^[B-DF-HJ-NP-TV-Z]{2,3}$")


def _latin_words(chunk: str) -> list[str]:
    """Latin words: camel case split, apostrophes dropped, initials written together split,
    digits read as the letters they stand for in a word ("Ig0r" -> "igor")."""
    chunk = _CAMEL.sub(" ", chunk)  # "SergeiLavrov" -> "Sergei Lavrov"
    words: list[str] = []
    for raw in re.split(r"[^\w]+|_", chunk):
        if _INITIALS.match(raw) and raw.lower() not in TITLES:  # "JC" -> "j c", not "MR"
            words.extend(raw.lower())
            continue
        for word in _SPLIT.split(anyascii(raw).lower()):
            if word and not word.isdigit() and not word.isalpha():
                word = word.translate(_LEET)
            if word:
                words.append(word)
    return words


def _words(script: str, chunk: str) -> list[tuple[str, str, bool]]:
    """The (ascii, original, abjad) words of one run of one script."""
    if script == "Latin":
        return [(w, w, False) for w in _latin_words(chunk)]
    if script in _CJK_SYLLABIC:
        syllables = [anyascii(ch) for ch in chunk]
        if not any(syllables):
            return []
        # one character, one syllable: the first is the surname, the rest the given name;
        # Korean surnames are written as their bearers write them (Kim, not Gim)
        surname = KOREAN_SURNAMES.get(chunk[0], syllables[0].lower())
        words = [(surname, chunk[0], False)]
        if len(chunk) > 1:
            words.append(("".join(syllables[1:]).lower(), chunk[1:], False))
        return words
    abjad = script in _ABJAD
    # signs that transliterate to ' or ` (hamza, ain, soft signs) are part of the word
    if script == "Arabic" and chunk.startswith("ال") and len(chunk) > 3:
        rest = _MARKS.sub("", anyascii(chunk[2:]).lower())
        return [("al", "ال", False), *[(w, chunk, True) for w in _SPLIT.split(rest) if w]]
    text = _MARKS.sub("", anyascii(chunk).lower())
    if script == "Greek":
        text = text.replace("oy", "ou")  # the digraph ου is "ou" (Papadopoulos), not "oy"
    return [(w, chunk, abjad) for w in _SPLIT.split(text) if w]


def _main_script(runs: list[tuple[str, str]]) -> str:
    counts: dict[str, int] = {}
    for script, chunk in runs:
        if script not in ("Common", ""):
            counts[script] = counts.get(script, 0) + len(chunk)
    return max(counts, key=lambda s: counts[s]) if counts else "Common"


def parse_name(text: str, part: Part = Part.UNKNOWN, field: str = "name") -> ParsedName:
    """Parse one written name (see the module docstring for the contract).

    ``part`` marks every token when the whole string is one part (a surname
    field); otherwise patronymics are recognised by their endings.
    """
    return _parse(_clean(text, field), part, field)


@lru_cache(maxsize=65536)
def _parse(text: str, part: Part, field: str) -> ParsedName:
    runs = _runs(_APOSTROPHES.sub("", text))
    tokens: list[Token] = []
    dropped: list[Token] = []
    for script, chunk in runs:
        if script == "Common":
            continue
        for word, original, abjad in _words(script, chunk):
            if word in TITLES or word in LEGAL_FORMS:
                dropped.append(Token(word, part, Role.NAME, original, abjad))
                continue
            if word in PARTICLES:
                tokens.append(Token(word, part, Role.PARTICLE, original, abjad))
                continue
            tokens.append(Token(word, part, Role.NAME, original, abjad))
    if not any(t.role is Role.NAME for t in tokens):
        # nothing but particles or titles: they are the name ("De La", a surname "Sheikh")
        if dropped and not tokens:
            tokens = dropped
        elif tokens:
            tokens = [Token(t.text, t.part, Role.NAME, t.original, t.abjad) for t in tokens]
        else:
            raise InvalidField(field, f"{text!r} has no name in it (only punctuation)")
    if len(tokens) > MAX_TOKENS:
        raise InvalidField(field, f"has {len(tokens)} words; a name has at most {MAX_TOKENS}")
    if part is Part.UNKNOWN:
        tokens = _mark_parts(tokens)
    return ParsedName(text, _main_script(runs), tuple(tokens))


def _mark_parts(tokens: list[Token]) -> list[Token]:
    """Mark the parts that a name's own shape tells: a patronymic by its ending (in a name of
    three parts or more: "Lukashevich" alone is a surname), and in an Arabic nasab the given
    name first and the father's name after bin, ibn, ben or ould, unless it is the last
    name of all ("Karim Ben Haddou": Ben Haddou is the family name)."""
    names = [t for t in tokens if t.role is Role.NAME]
    marked = list(tokens)
    nasab = any(t.text in _NASAB for t in tokens[1:-1])
    for i, token in enumerate(tokens):
        if token.role is not Role.NAME:
            continue
        fathers = nasab and i > 0 and tokens[i - 1].text in _NASAB and token is not names[-1]
        if fathers or (len(names) >= 3 and len(token.text) > 6 and _PATRONYMIC.search(token.text)):
            marked[i] = replace(token, part=Part.PATRONYMIC)
        elif nasab and token is names[0]:
            marked[i] = replace(token, part=Part.GIVEN)
    return marked

"""The DNA profile record: alleles at autosomal STR loci, the category of the sample, a reference.

A profile holds no name: the owner's ``reference`` (at most 64 characters)
leads back to the person or the case in the owner's national system, through
the follow-up between NCBs.

Loci. A profile may hold any of the loci in :data:`KNOWN_LOCI`: the 20 CODIS
core loci (:data:`CODIS_CORE_LOCI`), which include the 12 of the European
Standard Set (:data:`ESS_LOCI`), and other autosomal STRs of commercial and
NIST kits. Names are read without regard to case, spaces, underscores,
hyphens, dots or slashes, with the usual other spellings (``VWA``/``vWA``,
``THO1``/``TH01``, ``Penta D``/``PentaD``/``PENTA_D``, ``FES/FPS``,
``F13A1``); :func:`canonical_locus` gives the name the register uses.
Amelogenin (``X``, ``XY``, or ``Y`` for an AMELX deletion) is kept but never
matched on: it is not an STR and the Prüm rules leave it out of the count.

Alleles. Written ``9``, ``9.3`` (a microvariant: 9 repeats and 3 bases),
``32.2``: a repeat number from 1 to 99 with at most one decimal digit, held
as an integer in tenths (``9.3 -> 93``) so that equal alleles compare equal
exactly. Rare alleles outside the usual ladder are accepted as they are;
wildcards and off-ladder notations (``<8``, ``OL``, ``*``) are not. A locus
holds its distinct alleles in ascending order: ``(90, 93)`` is a
heterozygote, ``(90,)`` a homozygote (written ``9,9`` or ``9``). An empty
value means the locus was not typed.

Mixtures. A single-source profile has at most two alleles per locus. Only a
crime-scene stain may be a mixture (:data:`MIXTURE_CATEGORIES`): it may list
any number of alleles at a locus, and is marked ``mixture`` whenever one
locus has more than two, or when the uploader says so.

The natural key is ``category:reference`` (:func:`natural_key`), so the same
profile uploaded twice has one key and loading it again changes nothing; an
upload under the same key with other alleles replaces the profile.
References are the owner's and should be unique across members: prefix them
with the member's code (``GB-2024-001234``).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from policenet.errors import InvalidField

CODIS_CORE_LOCI: tuple[str, ...] = (
    "CSF1PO",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "D13S317",
    "D16S539",
    "D18S51",
    "D21S11",
    "FGA",
    "TH01",
    "TPOX",
    "vWA",
    "D1S1656",
    "D2S441",
    "D2S1338",
    "D10S1248",
    "D12S391",
    "D19S433",
    "D22S1045",
)
"""The 20 CODIS core loci required for NDIS since 1 January 2017 (Hares D.R., *Selection and
implementation of expanded CODIS core loci in the United States*, Forensic Sci. Int. Genet. 17
(2015) 33-34): the original 13 followed by the 7 added."""

ESS_LOCI: tuple[str, ...] = (
    "D3S1358",
    "vWA",
    "D8S1179",
    "D21S11",
    "D18S51",
    "TH01",
    "FGA",
    "D1S1656",
    "D2S441",
    "D10S1248",
    "D12S391",
    "D22S1045",
)
"""The European Standard Set: Council Resolution of 30 November 2009 on the exchange of DNA
analysis results (OJ C 296, 5.12.2009, p. 1), Annex 1 - the 7 loci of the 2001 resolution
followed by the 5 added in 2009. (D16S539, D2S1338 and D19S433 sit in the same kits, but are
not ESS loci.)"""

OTHER_LOCI: tuple[str, ...] = (
    # Prüm / Interpol table (Council Decision 2008/616/JHA, Annex, Chapter 1, 1.1)
    "Penta D",
    "Penta E",
    "SE33",
    "FESFPS",
    "F13A01",
    "F13B",
    "CD4",
    "GABA",
    # PowerPlex, Sinofiler and the NIST 1036 data set
    "Penta C",
    "D6S1043",
    "LPL",
    # NIST 26plex and miniSTR loci (Hill, Butler, Vallone, J. Forensic Sci. 54 (2009) 1008)
    "D1S1677",
    "D2S1776",
    "D3S3053",
    "D3S4529",
    "D4S2364",
    "D4S2408",
    "D5S2500",
    "D6S474",
    "D6S1017",
    "D8S1115",
    "D9S324",
    "D9S2157",
    "D10S1435",
    "D11S4463",
    "D12ATA63",
    "D14S1434",
    "D17S974",
    "D17S1301",
    "D18S853",
    "D20S482",
)

KNOWN_LOCI: tuple[str, ...] = CODIS_CORE_LOCI + OTHER_LOCI
"""Every locus a profile may hold, in the order the register lists them."""

MIN_LOCI = 6
"""Typed loci a profile needs to be searched, and loci two profiles must share to match: the
Prüm minimum of six full designated loci (Council Decision 2008/616/JHA, Annex, Chapter 1),
which the ENFSI DNA database recommendations and the Interpol DNA Gateway also use."""

MAX_REFERENCE_CHARS = 64
MIN_ALLELE, MAX_ALLELE = 10, 999  # tenths: 1 to 99.9 repeats


class Category(enum.StrEnum):
    """What the sample is, which decides what it is searched against (see :mod:`.matching`).

    ``REFERENCE_*``: taken from a known person (convicted, arrested, suspected);
    ``CRIME_SCENE_STAIN``: left at a scene by an unknown person (may be a mixture);
    ``MISSING_PERSON``: of the missing person (from personal effects, or a direct
    reference); ``RELATIVE_OF_MISSING_PERSON``: a relative's reference, given for
    identification only; ``UNIDENTIFIED_REMAINS``: of a body or human remains.
    """

    REFERENCE_CONVICTED = "reference-convicted"
    REFERENCE_ARRESTEE = "reference-arrestee"
    REFERENCE_SUSPECT = "reference-suspect"
    CRIME_SCENE_STAIN = "crime-scene-stain"
    MISSING_PERSON = "missing-person"
    RELATIVE_OF_MISSING_PERSON = "relative-of-missing-person"
    UNIDENTIFIED_REMAINS = "unidentified-remains"


MIXTURE_CATEGORIES: frozenset[Category] = frozenset({Category.CRIME_SCENE_STAIN})
"""Categories whose profiles may be mixtures; every other category is single source."""

Genotype = tuple[int, ...]
"""The distinct alleles of a locus in tenths, ascending; ``()`` is never stored."""


@dataclass(frozen=True, slots=True)
class DnaProfile:
    """One profile. ``loci`` maps canonical locus names (in :data:`KNOWN_LOCI` order) to the
    typed alleles; untyped loci are absent. ``amelogenin`` is ``"X"``, ``"XY"``, ``"Y"`` or
    None. ``mixture`` is True for a stain of more than one person.

    Build profiles with :func:`validate`; the constructor checks nothing but
    makes ``loci`` read-only.
    """

    reference: str
    category: Category
    loci: Mapping[str, Genotype]
    amelogenin: str | None = None
    mixture: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.loci, MappingProxyType):
            object.__setattr__(self, "loci", MappingProxyType(dict(self.loci)))

    def __hash__(self) -> int:
        return hash(
            (self.reference, self.category, tuple(self.loci.items()), self.amelogenin, self.mixture)
        )

    @property
    def single_source(self) -> bool:
        return not self.mixture

    def describe(self, locus: str) -> str:
        """The alleles at ``locus`` as written (``"9,9.3"``; ``"9,9"`` for a single-source
        homozygote; ``"-"`` if not typed)."""
        return format_genotype(self.loci.get(locus, ()), single_source=not self.mixture)


def natural_key(profile: DnaProfile) -> str:
    """``category:reference``, e.g. ``crime-scene-stain:GB-2024-001234``."""
    return f"{profile.category.value}:{profile.reference}"


def key_parts(key: str) -> tuple[Category, str] | None:
    """The category and reference of a natural key, or None if ``key`` is not one."""
    category, sep, reference = key.partition(":")
    if not sep or not reference:
        return None
    try:
        return Category(category), reference
    except ValueError:
        return None


def format_allele(allele: int) -> str:
    """An allele in tenths as written: ``93 -> "9.3"``, ``100 -> "10"``."""
    whole, part = divmod(allele, 10)
    return str(whole) if part == 0 else f"{whole}.{part}"


def format_genotype(alleles: Genotype, *, single_source: bool = True) -> str:
    """``(90, 93) -> "9,9.3"``; a single-source homozygote ``(90,)`` is written ``"9,9"``."""
    if not alleles:
        return "-"
    if single_source and len(alleles) == 1:
        alleles = (alleles[0], alleles[0])
    return ",".join(format_allele(a) for a in alleles)


# -- locus names -------------------------------------------------------------------

_NAME_NOISE = re.compile(r"[\s_\-./()]+")
_ALIASES: dict[str, str] = {
    "THO1": "TH01",
    "HUMTH01": "TH01",
    "HUMTHO1": "TH01",
    "CSF1P0": "CSF1PO",
    "HUMCSF1PO": "CSF1PO",
    "HUMVWA": "vWA",
    "HUMVWA31": "vWA",
    "VWA31": "vWA",
    "FIBRA": "FGA",
    "HUMFIBRA": "FGA",
    "FGAFIBRA": "FGA",
    "HUMTPOX": "TPOX",
    "ACTBP2": "SE33",
    "FES": "FESFPS",
    "F13A1": "F13A01",
}
_CANONICAL: dict[str, str] = {
    **{_NAME_NOISE.sub("", name).upper(): name for name in KNOWN_LOCI},
    **_ALIASES,
}
_AMELOGENIN_NAMES = frozenset({"AMELOGENIN", "AMEL", "AM", "AMELX"})
_FIELDS = ("reference", "category", "mixture")


def canonical_locus(name: str) -> str | None:
    """The register's name for locus ``name`` (``"penta_d" -> "Penta D"``), or None if unknown."""
    return _CANONICAL.get(_NAME_NOISE.sub("", name).upper())


# -- validation ----------------------------------------------------------------------

_ALLELE = re.compile(r"(\d{1,2})(?:\.(\d))?")
_LIST_SEPARATORS = re.compile(r"[,;/\s]+")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def validate(raw: Mapping[str, object]) -> DnaProfile:
    """Turn ``raw`` (a CSV row or a JSON object) into a :class:`DnaProfile`.

    Fields: ``reference`` and ``category`` (required), ``amelogenin`` and
    ``mixture`` (optional), and one field per locus whose value is the alleles
    as text (``"9,9.3"``; commas, semicolons, slashes or spaces between them)
    or a list of alleles (text or numbers). Field names are read like locus
    names (case and separators do not matter). Raises InvalidField naming:

    - the field, for an unknown name (``"D99S999: unknown locus"``), a missing
      or malformed reference or category, a bad amelogenin or mixture value;
    - the locus, for a value that is not alleles (``"D8S1179: '12,x' ..."``),
      more than two alleles in a profile that may not be a mixture, or a
      locus given twice under two spellings (``vWA`` and ``VWA``);
    - ``loci``, when fewer than :data:`MIN_LOCI` loci are typed.
    """
    reference = _reference(raw.get("reference"))
    category = _category(raw.get("category"))
    declared = _mixture_flag(raw.get("mixture"))
    if declared and category not in MIXTURE_CATEGORIES:
        raise InvalidField("mixture", _mixture_refused(category))
    amelogenin: str | None = None
    loci: dict[str, Genotype] = {}
    spelled: dict[str, str] = {}
    for name, value in raw.items():
        field = str(name)
        if field in _FIELDS:
            continue
        squeezed = _NAME_NOISE.sub("", field).upper()
        if squeezed in _AMELOGENIN_NAMES:
            amelogenin = _amelogenin(field, value)
            continue
        locus = _CANONICAL.get(squeezed)
        if locus is None:
            raise InvalidField(field, "unknown locus (not an autosomal STR locus of this register)")
        alleles = _alleles(locus, value)
        if not alleles:
            continue
        if locus in loci:
            raise InvalidField(locus, f"given twice, as {spelled[locus]!r} and as {field!r}")
        distinct = tuple(sorted(set(alleles)))
        if len(alleles) > 2 and (category not in MIXTURE_CATEGORIES or declared is False):
            why = (
                _mixture_refused(category)
                if category not in MIXTURE_CATEGORIES
                else "the profile is declared single source"
            )
            raise InvalidField(
                locus,
                f"{len(alleles)} alleles ({format_genotype(distinct, single_source=False)}); "
                f"a single-source profile has at most 2 ({why})",
            )
        loci[locus] = distinct
        spelled[locus] = field
    if len(loci) < MIN_LOCI:
        typed = f"{len(loci)} locus" if len(loci) == 1 else f"{len(loci)} loci"
        raise InvalidField("loci", f"only {typed} typed; at least {MIN_LOCI} are needed to search")
    mixture = bool(declared) or any(len(a) > 2 for a in loci.values())
    ordered = {locus: loci[locus] for locus in KNOWN_LOCI if locus in loci}
    return DnaProfile(reference, category, ordered, amelogenin, mixture)


def _mixture_refused(category: Category) -> str:
    allowed = ", ".join(sorted(c.value for c in MIXTURE_CATEGORIES))
    return f"a {category.value} profile is single source; only {allowed} may be a mixture"


def _reference(value: object) -> str:
    if value is None:
        raise InvalidField("reference", "required")
    if not isinstance(value, str):
        raise InvalidField("reference", f"must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidField("reference", "required")
    if len(text) > MAX_REFERENCE_CHARS:
        raise InvalidField("reference", f"{len(text)} characters; at most {MAX_REFERENCE_CHARS}")
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise InvalidField("reference", f"control character U+{ord(ch):04X} is not allowed")
    return text


def _category(value: object) -> Category:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidField("category", "required")
    try:
        return Category(re.sub(r"[\s_]+", "-", text.lower()))
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise InvalidField("category", f"{text!r} is not one of {known}") from None


def _mixture_flag(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidField("mixture", f"{value!r} is not true or false")


def _amelogenin(field: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        raise InvalidField(field, f"must be text, not {type(value).__name__}")
    parts = value if isinstance(value, list | tuple) else [value]
    letters = "".join(_LIST_SEPARATORS.sub("", str(p)) for p in parts).upper()
    if not letters:
        return None
    if set(letters) == {"X"}:
        return "X"
    if set(letters) == {"X", "Y"}:
        return "XY"
    if set(letters) == {"Y"}:
        return "Y"
    raise InvalidField(field, f"{value!r} is not X, XY or Y")


def _alleles(locus: str, value: object) -> list[int]:
    """The alleles of one locus as listed (repeats kept, so that three values can be counted)."""
    if value is None:
        return []
    if isinstance(value, str):
        shown = value.strip()
        tokens = [t for t in _LIST_SEPARATORS.split(shown) if t]
    elif isinstance(value, list | tuple):
        shown = ",".join(str(v) for v in value)
        tokens = [_token(locus, v, shown) for v in value]
    else:
        tokens = [_token(locus, value, str(value))]
        shown = tokens[0]
    return [_allele(locus, token, shown) for token in tokens]


def _token(locus: str, value: object, shown: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidField(locus, f"{shown!r} is not an allele list ({value!r} is not an allele)")
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _allele(locus: str, token: str, shown: str) -> int:
    found = _ALLELE.fullmatch(token)
    value = int(found.group(1)) * 10 + int(found.group(2) or 0) if found else 0
    if not MIN_ALLELE <= value <= MAX_ALLELE:
        raise InvalidField(
            locus,
            f"'{shown}' is not an allele list: {token!r} is not an allele "
            "(a repeat number from 1 to 99 with at most one decimal, such as 9 or 9.3)",
        )
    return value


def iter_loci(profile: DnaProfile) -> Iterator[tuple[str, Genotype]]:
    """The typed loci of ``profile`` in :data:`KNOWN_LOCI` order."""
    for locus in KNOWN_LOCI:
        alleles = profile.loci.get(locus)
        if alleles:
            yield locus, alleles

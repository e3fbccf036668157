"""Load rows of the persons register from the US Treasury (OFAC) SDN list, as published.

The Specially Designated Nationals list comes as a CSV file without a header,
one entry a line, twelve columns: ``ent_num``, ``SDN_Name``, ``SDN_Type``
(``individual`` for a person; ``-0-`` for a company or organisation, also
``vessel`` and ``aircraft``), ``Program``, ``Title``, ``Call_Sign``,
``Vess_type``, ``Tonnage``, ``GRT``, ``Vess_flag``, ``Vess_owner``,
``Remarks``. ``-0-`` stands for an empty value. The remarks are entries
separated by ``;`` (``DOB 12 Jan 1960; alt. DOB 1961; POB Baghdad, Iraq;
nationality Iraq; Gender Male; Passport A1234567 (Iraq); a.k.a. 'ABU X'``).

:func:`sdn_rows` reads the lines it is given (streamed through :mod:`csv`)
and yields one :class:`SdnRow` per entry: the line it starts on and either a
load row (every field of :data:`~policenet.registers.persons.record.ROW_FIELDS`,
text, lists joined by ``;``) or the reason the entry cannot be loaded. A row
is a ``watchlist`` entry with reference ``SDN-<ent_num>``, and:

- an individual's name ``SURNAME, Given Names`` gives ``surname``,
  ``given_names`` and ``name`` ``Given Names SURNAME`` (case as published; a
  suffix after a second comma, ``Jr.``, goes at the end of ``name``);
- ``a.k.a.``, ``f.k.a.`` and ``n.k.a.`` entries give ``aliases`` (quotes
  stripped, an individual's ``LAST, First`` reordered like the name);
- ``DOB`` entries give ``dates_of_birth``: ``12 Jan 1960``, ``Jan 1960``,
  ``1960``, ``circa 1960``, a range of years gives each year (ranges over
  :data:`MAX_YEAR_RANGE` years are left out), a range of dates its first date;
- the first ``POB`` gives ``place_of_birth``; ``nationality`` and ``citizen``
  entries give ``nationalities`` (ISO 3166-1 alpha-2); ``Gender`` gives ``sex``;
- ``Passport`` (also ``Diplomatic Passport``) and ``National ID No.`` entries
  naming their country give ``documents`` (``ISSUING_STATE:type:NUMBER``,
  ICAO 9303 state codes: ``D`` for Germany, ``RKS`` for Kosovo);
- ``remarks`` names the programmes and the title and keeps every remark entry
  that was not read into a field above (alternative places of birth, other
  identifiers, links), shortened to
  :data:`~policenet.registers.persons.record.MAX_TEXT_CHARS` characters.

A value that cannot be read into its field (a date that does not parse, a
country without a code, a document number with ``/`` in it, an alias that is
not a usable name) is left out of the field and stays in the remarks: rows
never carry a value that :func:`~policenet.registers.persons.record.validate`
would refuse. Companies, vessels and aircraft are skipped unless
``include_entities`` is set; they then keep their name as published, with no
parts, their aliases and their remarks. An entry that cannot be loaded at all
(wrong number of columns, no entry number, no usable name) is reported, not
raised. A line holding only the DOS end-of-file mark (``\\x1a``, which ends
the published file) or nothing is skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache

import pycountry

from policenet.errors import InvalidField
from policenet.registers.documents.countries import validate_issuing_state
from policenet.registers.documents.record import DocumentType, normalise_number
from policenet.registers.persons.names import Part, parse_name
from policenet.registers.persons.record import (
    MAX_NAMES,
    MAX_TEXT_CHARS,
    ROW_FIELDS,
    NoticeKind,
    NoticeStatus,
    Sex,
    parse_birth_date,
)

DEFAULT_LIST_NAME = "OFAC SDN"
COLUMNS = 12
"""Columns of a line of the published SDN CSV file."""
MAX_YEAR_RANGE = 10
"""Widest range of birth years (``DOB 1960 to 1962``) read as one date of birth per year."""
MAX_PLACE_CHARS = 200
"""Longest place of birth the register takes."""

EMPTY = "-0-"
INDIVIDUAL = "individual"
_END_OF_FILE = "\x1a"

# Country names as the SDN list writes them where pycountry does not know them.
_COUNTRY_NAMES: dict[str, str] = {
    "burma": "MM",
    "cape verde": "CV",
    "congo, democratic republic of the": "CD",
    "congo, republic of the": "CG",
    "cote d'ivoire": "CI",
    "czech republic": "CZ",
    "gambia, the": "GM",
    "the gambia": "GM",
    "bahamas, the": "BS",
    "the bahamas": "BS",
    "iran": "IR",
    "korea, north": "KP",
    "north korea": "KP",
    "korea, south": "KR",
    "south korea": "KR",
    "laos": "LA",
    "macau": "MO",
    "macedonia": "MK",
    "north macedonia, the republic of": "MK",
    "micronesia, federated states of": "FM",
    "palestinian": "PS",
    "palestine": "PS",
    "russia": "RU",
    "syria": "SY",
    "turkey": "TR",
    "vietnam": "VN",
}
# Issuing states with an ICAO 9303 code but no ISO 3166-1 code (so no nationality code).
_ICAO_ONLY: dict[str, str] = {"kosovo": "RKS"}

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_FULL_MONTHS = {
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "sept",
    "october",
    "november",
    "december",
}

_ALT = re.compile(r"alt\.\s+", re.IGNORECASE)
_ALIAS = re.compile(r"([afn])\.k\.a\.\s*(.*)", re.DOTALL)
_DOB = re.compile(r"DOB\s+(.+)")
_POB = re.compile(r"POB\s+(.+)")
_NATIONALITY = re.compile(r"(?:nationality|citizen)\s+(.+)")
_GENDER = re.compile(r"Gender\s+(Male|Female)", re.IGNORECASE)
_DOCUMENT = re.compile(
    r"(?P<kind>(?:Diplomatic\s+)?Passport|National\s+ID\s+No\.)\s+"
    r"(?:(?:Booklet|C?NIC):\s*)?(?P<number>[^()]+?)\s*\((?P<country>[^()]+)\)(?:\s.*)?",
    re.DOTALL,
)
_YEAR_RANGE = re.compile(r"(\d{4})\s*(?:to|-)\s*(\d{4})")
_DAY_MONTH_YEAR = re.compile(r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3,9})\.?\s+)?(\d{4})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_QUOTES = "'\"‘’“”"


@dataclass(frozen=True, slots=True)
class SdnRow:
    """One entry of the list: the line it starts on and its load row, or why there is none.

    Exactly one of ``row`` and ``error`` is set.
    """

    line: int
    row: dict[str, str] | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.row is not None


def sdn_rows(
    lines: Iterable[str],
    *,
    list_name: str = DEFAULT_LIST_NAME,
    include_entities: bool = False,
    today: date | None = None,
) -> Iterator[SdnRow]:
    """The load rows of the SDN entries in ``lines`` (see the module docstring).

    ``lines`` are the lines of the CSV file, read one at a time (a file
    opened with ``newline=""`` is best; embedded line breaks are followed).
    ``today`` (default: the current date) is the date dates of birth must
    not come after. Raises nothing for bad content: an entry that cannot be
    loaded gives an :class:`SdnRow` with ``error`` set.
    """
    today = today or date.today()
    reader = csv.reader(lines)
    last_line = 0
    for columns in reader:
        line, last_line = last_line + 1, reader.line_num
        if not columns or (len(columns) == 1 and columns[0].strip() in ("", _END_OF_FILE)):
            continue
        if len(columns) != COLUMNS:
            yield SdnRow(line, error=f"expected {COLUMNS} columns, found {len(columns)}")
            continue
        fields = [_value(c) for c in columns]
        kind = fields[2].lower()
        if kind != INDIVIDUAL and not include_entities:
            continue
        try:
            row = _row(fields, list_name, today)
        except InvalidField as error:
            yield SdnRow(line, error=error.message)
            continue
        yield SdnRow(line, row=row)


def _value(column: str) -> str:
    """The column's text, ``""`` for ``-0-``, without control characters."""
    text = _CONTROL.sub(" ", column).strip()
    return "" if text == EMPTY else text


def _row(fields: list[str], list_name: str, today: date) -> dict[str, str]:
    """The load row of one entry; InvalidField when it has no entry number or no usable name."""
    ent_num, sdn_name, sdn_type, programs, title = fields[:5]
    if not ent_num.isdigit():
        raise InvalidField("reference", f"the entry number {ent_num!r} is not a number")
    if not sdn_name:
        raise InvalidField("name", f"entry {ent_num} has no name")
    individual = sdn_type.lower() == INDIVIDUAL
    row = dict.fromkeys(ROW_FIELDS, "")
    row.update(
        reference=f"SDN-{ent_num}",
        kind=NoticeKind.WATCHLIST.value,
        status=NoticeStatus.ACTIVE.value,
        list_name=list_name,
    )
    if individual:
        name, given, surname = _person_name(sdn_name)
        parse_name(name, field="name")  # refuses an unusable name, naming the field
        surname = _usable(surname, Part.SURNAME)
        # without a usable surname ("HE", "PAO" read as noise) the whole name is compared
        given = _usable(given, Part.GIVEN) if surname else ""
        row.update(name=name, given_names=given, surname=surname)
    else:
        parse_name(sdn_name, field="name")
        row["name"] = sdn_name
    remarks = _Remarks(individual, today)
    remarks.read(fields[11], main_name=row["name"])
    row.update(
        aliases=";".join(remarks.aliases),
        dates_of_birth=";".join(remarks.births),
        place_of_birth=remarks.place_of_birth,
        nationalities=";".join(remarks.nationalities),
        sex=remarks.sex,
        documents=";".join(remarks.documents),
        remarks=_remarks_text(fields, programs, title, remarks.rest),
    )
    return row


def _person_name(text: str) -> tuple[str, str, str]:
    """``SURNAME, Given Names[, Suffix]`` -> (``Given Names SURNAME[ Suffix]``, given, surname).

    A name without a comma is returned whole, with no parts.
    """
    surname, comma, rest = text.partition(",")
    surname, rest = surname.strip(), rest.strip()
    if not comma or not surname or not rest:
        whole = " ".join(p for p in (rest, surname) if p) or text.strip()
        return whole, "", ""
    given, _, suffix = (p.strip() for p in rest.partition(","))
    whole = " ".join(p for p in (given, surname, suffix) if p)
    return whole, given, surname


def _usable(value: str, part: Part) -> str:
    """``value`` when it is a usable name part, else ``""`` (a given name that is only a
    title, a surname that name parsing reads as a title or a legal form)."""
    if not value:
        return ""
    try:
        parse_name(value, part)
    except InvalidField:
        return ""
    return value


class _Remarks:
    """The remark entries of one SDN line, read into the fields they give."""

    def __init__(self, individual: bool, today: date) -> None:
        self.individual = individual
        self.today = today
        self.aliases: list[str] = []
        self.births: list[str] = []
        self.place_of_birth = ""
        self.nationalities: list[str] = []
        self.sex = ""
        self.documents: list[str] = []
        self.rest: list[str] = []
        self._seen_names: set[str] = set()

    def read(self, text: str, main_name: str) -> None:
        self._seen_names.add(main_name.casefold())
        entries = [e.strip() for e in text.split(";")]
        if entries and entries[-1].endswith("."):
            entries[-1] = entries[-1][:-1].rstrip()  # the full stop that ends the remarks
        for entry in entries:
            if entry and not self._read_entry(entry):
                self.rest.append(entry)

    def _read_entry(self, entry: str) -> bool:
        """True when ``entry`` was read into a field (so it need not stay in the remarks)."""
        alias = _ALIAS.fullmatch(entry)
        if alias is not None:
            return self._alias(alias.group(2))
        if not self.individual:
            return False
        alt = _ALT.match(entry)
        body = entry[alt.end() :] if alt else entry
        if match := _DOB.fullmatch(body):
            dates = [d for d in birth_dates(match.group(1)) if self._valid_birth(d)]
            self.births.extend(d for d in dates if d not in self.births)
            return bool(dates)
        if (match := _POB.fullmatch(body)) and not self.place_of_birth and body is entry:
            place = match.group(1).strip()
            if len(place) <= MAX_PLACE_CHARS:
                self.place_of_birth = place
                return True
            return False
        if match := _NATIONALITY.fullmatch(body):
            code = country_code(match.group(1))
            if code is not None and code not in self.nationalities:
                self.nationalities.append(code)
            return code is not None
        if (match := _GENDER.fullmatch(body)) and not self.sex:
            self.sex = (Sex.MALE if match.group(1).lower() == "male" else Sex.FEMALE).value
            return True
        if match := _DOCUMENT.fullmatch(body):
            key = document_key(match.group("kind"), match.group("number"), match.group("country"))
            if key is not None and key not in self.documents:
                self.documents.append(key)
            return key is not None
        return False

    def _alias(self, quoted: str) -> bool:
        name = _unquote(quoted)
        if name is None:
            return False  # no closing quote: cut short where the list truncates a remark
        if self.individual:
            name = _person_name(name)[0]
        if name.casefold() in self._seen_names:
            return True
        if len(self.aliases) + 1 >= MAX_NAMES:
            return False
        try:
            parse_name(name, field="aliases")
        except InvalidField:
            return False
        self._seen_names.add(name.casefold())
        self.aliases.append(name)
        return True

    def _valid_birth(self, text: str) -> bool:
        try:
            parse_birth_date(text, self.today)
        except InvalidField:
            return False
        return True


def _unquote(text: str) -> str | None:
    """The alias inside its quotes (``'ABU X'`` -> ``ABU X``), or None when they do not close."""
    text = text.strip()
    if text.endswith(".") and len(text) > 1 and text[-2] in _QUOTES:
        text = text[:-1]
    if len(text) < 3 or text[0] not in _QUOTES or text[-1] not in _QUOTES:
        return None
    inner = text[1:-1].strip()
    if len(inner) >= 2 and inner[0] in _QUOTES and inner[-1] in _QUOTES:
        inner = inner[1:-1].strip()  # ''FOOPIE'': quoted twice
    return inner or None


def birth_dates(text: str) -> list[str]:
    """The dates of birth an SDN ``DOB`` value gives, as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    ``12 Jan 1960`` -> ``1960-01-12``; ``Jan 1960`` -> ``1960-01``; ``1960``
    and ``circa 1960`` -> ``1960``; ``1960 to 1962`` (or ``1960-1962``) ->
    each year, when the range spans at most :data:`MAX_YEAR_RANGE` years;
    ``12 Jan 1960 to 15 Feb 1960`` -> the first date. Anything else gives an
    empty list. The dates are not checked against the calendar here.
    """
    value = " ".join(text.split()).rstrip(".")
    if value.lower().startswith("circa "):
        value = value[6:].strip()
    years = _YEAR_RANGE.fullmatch(value)
    if years is not None:
        first, last = int(years.group(1)), int(years.group(2))
        if first <= last <= first + MAX_YEAR_RANGE:
            return [f"{year:04d}" for year in range(first, last + 1)]
        return []
    first_date = re.split(r"\s+to\s+", value, maxsplit=1)[0]
    match = _DAY_MONTH_YEAR.fullmatch(first_date)
    if match is None:
        return []
    day_text, month_text, year_text = match.groups()
    if month_text is None:
        return [] if day_text else [year_text]
    word = month_text.lower()
    month = _MONTHS.get(word[:3])
    if month is None or (len(word) > 3 and word not in _FULL_MONTHS):
        return []
    if day_text is None:
        return [f"{year_text}-{month:02d}"]
    return [f"{year_text}-{month:02d}-{int(day_text):02d}"]


@cache
def country_code(name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country as the SDN list names it, or None if unknown.

    ``Iraq`` -> ``IQ``, ``Russia`` -> ``RU``, ``Korea, North`` -> ``KP``,
    ``Palestinian`` -> ``PS``. Kosovo, which has no ISO code, gives None.
    """
    key = " ".join(name.split()).strip(" .").casefold()
    if not key:
        return None
    if key in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[key]
    try:
        found = pycountry.countries.lookup(key)
    except LookupError:
        return None
    return str(found.alpha_2)


@cache
def issuing_state(name: str) -> str | None:
    """The ICAO 9303 code of a country as the SDN list names it (``Germany`` -> ``D``), or None."""
    key = " ".join(name.split()).strip(" .").casefold()
    if key in _ICAO_ONLY:
        return _ICAO_ONLY[key]
    alpha2 = country_code(name)
    if alpha2 is None:
        return None
    country = pycountry.countries.get(alpha_2=alpha2)
    if country is None:
        return None
    try:
        return validate_issuing_state(str(country.alpha_3))
    except InvalidField:
        return None


def document_key(kind: str, number: str, country: str) -> str | None:
    """The travel documents register key of an SDN document entry, or None when it cannot be
    read (a country without an ICAO code, a number with characters other than letters, digits,
    spaces and hyphens)."""
    state = issuing_state(country)
    if state is None:
        return None
    try:
        normalised = normalise_number(number)
    except InvalidField:
        return None
    doc_type = DocumentType.PASSPORT if "passport" in kind.lower() else DocumentType.ID_CARD
    return f"{state}:{doc_type.value}:{normalised}"


def _remarks_text(fields: list[str], programs: str, title: str, rest: list[str]) -> str:
    """Programmes, title, vessel or aircraft details and the unread remark entries."""
    parts: list[str] = []
    codes = [c.strip(" []") for c in programs.split("] [") if c.strip(" []")]
    if codes:
        parts.append("Programs: " + ", ".join(codes))
    sdn_type = fields[2]
    if sdn_type and sdn_type.lower() != INDIVIDUAL:
        details = [
            f"{label} {value}"
            for label, value in zip(
                ("Call sign", "Type", "Tonnage", "GRT", "Flag", "Owner"),
                fields[5:11],
                strict=True,
            )
            if value
        ]
        parts.append(sdn_type.capitalize() + (f" ({', '.join(details)})" if details else ""))
    remark_text = "; ".join(rest)
    if title and title not in remark_text:
        parts.append(f"Title: {title}")
    if remark_text:
        parts.append(remark_text)
    text = ". ".join(parts)
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1].rstrip() + "…"
    return text

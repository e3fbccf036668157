"""The machine-readable zone (MRZ) of a travel document, read and written (ICAO Doc 9303).

Five layouts, told apart by the number of lines, their length and the first
letter (``V`` for visas):

========  ==========  ===========================================================
format    lines       check digits
========  ==========  ===========================================================
TD1       3 x 30      number, birth, expiry, composite (ID cards)
TD2       2 x 36      number, birth, expiry, composite
TD3       2 x 44      number, birth, expiry, optional data (personal number), composite
MRVA      2 x 44      number, birth, expiry (visa A; no composite)
MRVB      2 x 36      number, birth, expiry (visa B; no composite)
========  ==========  ===========================================================

Check digits use the 7-3-1 weights over character values (``0``-``9`` are
0-9, ``A``-``Z`` are 10-35, ``<`` is 0), modulo 10.

Input is forgiving about layout only: the lines may come with surrounding
whitespace and blank lines, or as one string of 90, 72 or 88 characters.
Everything else is checked and every failure is an
:class:`~policenet.errors.InvalidField` that names the field and says what
was expected and what was found: lower case letters, characters outside
``A-Z0-9<``, line counts and lengths, each check digit, dates, codes.

Dates are ``YYMMDD``; the century is resolved against ``today``:

- birth date: the latest century that does not put the date after ``today``
  (``740812`` read in 2026 is 1974-08-12; a person born 1925 and read as
  ``25...`` in 2026 comes out as 2025 — the MRZ cannot tell them apart);
- expiry date: the century that puts the date nearest ``today`` (a window of
  50 years either side), so long-expired documents and ten-year passports
  both resolve;
- unknown parts are written as fillers (``74<<<<``) and give ``None``; so does a
  birth date with month or day ``00``, which some states write for "unknown".

TD1 documents with numbers longer than nine characters carry the first nine
in the number field, ``<`` in its check-digit position, and the rest of the
number plus its check digit at the start of the optional data, followed by
a filler; the check digit covers the whole number.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date

from policenet.errors import InvalidField
from policenet.registers.documents.countries import validate_issuing_state

_CHAR_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
_WEIGHTS = (7, 3, 1)
_MRZ_LINE = re.compile(r"[A-Z0-9<]*")
_NAME_TEXT = re.compile(r"[A-Z ]*")
_OPTIONAL_TEXT = re.compile(r"[A-Z0-9<]*")
FIELD = "mrz"


class MrzFormat(enum.StrEnum):
    """The layout of a machine-readable zone."""

    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRVA = "MRVA"
    MRVB = "MRVB"

    @property
    def label(self) -> str:
        """The name Doc 9303 uses (``MRV-A`` rather than ``MRVA``)."""
        return {"MRVA": "MRV-A", "MRVB": "MRV-B"}.get(self.value, self.value)


_SHAPE: dict[MrzFormat, tuple[int, int]] = {
    MrzFormat.TD1: (3, 30),
    MrzFormat.TD2: (2, 36),
    MrzFormat.TD3: (2, 44),
    MrzFormat.MRVA: (2, 44),
    MrzFormat.MRVB: (2, 36),
}
# Width of the optional data field on line 2 of the two-line formats.
_OPTIONAL_WIDTH = {MrzFormat.TD2: 7, MrzFormat.TD3: 14, MrzFormat.MRVA: 16, MrzFormat.MRVB: 8}


@dataclass(frozen=True, slots=True)
class MachineReadableZone:
    """What a machine-readable zone says, fillers removed.

    ``document_code`` is the one or two letters that open the zone (``P``,
    ``I``, ``ID``, ``V``...). ``issuing_state`` and ``nationality`` are ICAO
    codes as :func:`~.countries.validate_issuing_state` returns them (``D``
    for Germany). ``document_number`` is the full number (TD1 long numbers
    joined). Names have fillers turned into single spaces; ``secondary_identifiers``
    is empty when the zone names one identifier only. Dates are None when
    (partly) unknown. ``sex`` is ``M``, ``F`` or ``X`` (unspecified, written
    ``<`` or ``X``). ``optional_data`` is the optional data of line 1 (TD1) or
    line 2 (other formats; the personal number of a TD3 passport);
    ``optional_data_2`` is TD1's second optional field and empty elsewhere.
    Both keep inner fillers and lose trailing ones.
    """

    format: MrzFormat
    document_code: str
    issuing_state: str
    document_number: str
    primary_identifier: str
    secondary_identifiers: str
    nationality: str
    birth_date: date | None
    sex: str
    expiry_date: date | None
    optional_data: str = ""
    optional_data_2: str = ""


def check_digit(text: str) -> str:
    """The Doc 9303 check digit of ``text`` (7-3-1 weights, modulo 10), as one character.

    ``text`` may hold ``A-Z``, ``0-9`` and ``<`` only; anything else raises
    InvalidField naming the character.
    """
    total = 0
    for i, ch in enumerate(text):
        value = _CHAR_VALUES.get(ch)
        if value is None:
            raise InvalidField("check_digit", f"{ch!r} is not an MRZ character")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def parse_mrz(text: str, today: date) -> MachineReadableZone:
    """Read a machine-readable zone; raise InvalidField naming the first field that is wrong.

    ``text`` holds the lines separated by newlines (surrounding whitespace
    and blank lines are ignored) or all lines run together as one string.
    ``today`` resolves the century of dates (see the module docstring).
    """
    lines = _split_lines(text)
    for number, line in enumerate(lines, start=1):
        _check_characters(number, line)
    fmt = _detect_format(lines)
    if fmt is MrzFormat.TD1:
        return _parse_td1(lines, today)
    return _parse_two_lines(fmt, lines, today)


def _split_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise InvalidField(FIELD, "empty: an MRZ has two or three lines")
    if len(lines) == 1:
        # A scanner that drops the line breaks: 3 x 30, 2 x 36 or 2 x 44 characters.
        width = {90: 30, 72: 36, 88: 44}.get(len(lines[0]))
        if width is not None:
            run = lines[0]
            return [run[i : i + width] for i in range(0, len(run), width)]
    if len(lines) not in (2, 3):
        raise InvalidField(
            FIELD,
            f"{len(lines)} line{'s' if len(lines) != 1 else ''}; an MRZ has 3 (TD1) "
            "or 2 (TD2, TD3, MRV-A, MRV-B)",
        )
    return lines


def _check_characters(number: int, line: str) -> None:
    if _MRZ_LINE.fullmatch(line):
        return
    for position, ch in enumerate(line, start=1):
        if "a" <= ch <= "z":
            raise InvalidField(
                FIELD,
                f"line {number}, position {position}: lower-case {ch!r}; "
                "an MRZ is written in capitals only",
            )
        if _CHAR_VALUES.get(ch) is None:
            raise InvalidField(
                FIELD,
                f"line {number}, position {position}: {ch!r} is not an MRZ character "
                "(A-Z, 0-9 and < only)",
            )


def _detect_format(lines: list[str]) -> MrzFormat:
    if len(lines) == 3:
        fmt = MrzFormat.TD1
    else:
        width = next((len(line) for line in lines if len(line) in (36, 44)), None)
        if width is None:
            raise InvalidField(
                FIELD,
                f"line 1: {len(lines[0])} characters; a two-line MRZ has 36 (TD2, MRV-B) "
                "or 44 (TD3, MRV-A) per line",
            )
        visa = lines[0][:1] == "V"
        if width == 44:
            fmt = MrzFormat.MRVA if visa else MrzFormat.TD3
        else:
            fmt = MrzFormat.MRVB if visa else MrzFormat.TD2
    width = _SHAPE[fmt][1]
    for number, line in enumerate(lines, start=1):
        if len(line) != width:
            raise InvalidField(
                FIELD,
                f"line {number}: {len(line)} characters, "
                f"{'an' if fmt.label.startswith('M') else 'a'} {fmt.label} line has {width}",
            )
    return fmt


def _parse_td1(lines: list[str], today: date) -> MachineReadableZone:
    line1, line2, line3 = lines
    code = _document_code(line1[0:2])
    state = validate_issuing_state(line1[2:5], "issuing_state")
    number, optional = _td1_number(line1[5:14], line1[14], line1[15:30])
    birth = _dated("birth_date", line2[0:6], line2[6], today)
    sex = _sex(line2[7])
    expiry = _dated("expiry_date", line2[8:14], line2[14], today)
    nationality = validate_issuing_state(line2[15:18], "nationality")
    _verify("composite", line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29], line2[29])
    primary, secondary = _names(line3)
    return MachineReadableZone(
        format=MrzFormat.TD1,
        document_code=code,
        issuing_state=state,
        document_number=number,
        primary_identifier=primary,
        secondary_identifiers=secondary,
        nationality=nationality,
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        optional_data=optional,
        optional_data_2=line2[18:29].rstrip("<"),
    )


def _parse_two_lines(fmt: MrzFormat, lines: list[str], today: date) -> MachineReadableZone:
    line1, line2 = lines
    code = _document_code(line1[0:2])
    state = validate_issuing_state(line1[2:5], "issuing_state")
    primary, secondary = _names(line1[5:])
    number = _number(line2[0:9], line2[9])
    nationality = validate_issuing_state(line2[10:13], "nationality")
    birth = _dated("birth_date", line2[13:19], line2[19], today)
    sex = _sex(line2[20])
    expiry = _dated("expiry_date", line2[21:27], line2[27], today)
    optional = line2[28 : 28 + _OPTIONAL_WIDTH[fmt]]
    if fmt is MrzFormat.TD3:
        _verify("optional_data", optional, line2[42], filler_allowed=True)
        _verify("composite", line2[0:10] + line2[13:20] + line2[21:43], line2[43])
    elif fmt is MrzFormat.TD2:
        _verify("composite", line2[0:10] + line2[13:20] + line2[21:35], line2[35])
    return MachineReadableZone(
        format=fmt,
        document_code=code,
        issuing_state=state,
        document_number=number,
        primary_identifier=primary,
        secondary_identifiers=secondary,
        nationality=nationality,
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        optional_data=optional.rstrip("<"),
    )


def _verify(field: str, data: str, found: str, *, filler_allowed: bool = False) -> None:
    """Check one check digit; ``filler_allowed``: ``<`` stands for an all-filler field."""
    expected = check_digit(data)
    if found == expected or (filler_allowed and found == "<" and data.strip("<") == ""):
        return
    raise InvalidField(field, f"check digit expected {expected}, found {found!r}")


def _document_code(text: str) -> str:
    if not text[0].isalpha():
        raise InvalidField("document_code", f"{text!r} must start with a letter")
    return text.rstrip("<")


def _number(text: str, digit: str) -> str:
    _verify("document_number", text, digit)
    number = text.rstrip("<")
    if not number:
        raise InvalidField("document_number", "empty")
    return number


def _td1_number(text: str, digit: str, optional: str) -> tuple[str, str]:
    """The full TD1 document number and what is left of the optional data."""
    if digit != "<" or text.endswith("<"):
        return _number(text, digit), optional.rstrip("<")
    end = optional.find("<")
    if end == -1:
        end = len(optional)
    if end == 0:
        raise InvalidField(
            "document_number",
            "check digit position holds '<' but the optional data does not continue the number",
        )
    number = text + optional[: end - 1]
    _verify("document_number", number, optional[end - 1])
    return number, optional[end + 1 :].rstrip("<")


def _sex(ch: str) -> str:
    if ch in ("M", "F"):
        return ch
    if ch in ("<", "X"):
        return "X"
    raise InvalidField("sex", f"{ch!r} is not M, F, X or <")


def _names(text: str) -> tuple[str, str]:
    digit = next((ch for ch in text if ch.isdigit()), None)
    if digit is not None:
        raise InvalidField("name", f"the name field holds the digit {digit!r}; names are letters")
    primary, _, secondary = text.rstrip("<").partition("<<")
    return " ".join(primary.split("<")).strip(), " ".join(secondary.replace("<", " ").split())


def _dated(field: str, text: str, digit: str, today: date) -> date | None:
    _verify(field, text, digit)
    return _date(field, text, today, birth=field == "birth_date")


def _date(field: str, text: str, today: date, *, birth: bool) -> date | None:
    """The date ``text`` (YYMMDD) stands for, with the century chosen as the module says."""
    if not all(ch.isdigit() or ch == "<" for ch in text):
        raise InvalidField(field, f"{text!r} is not a date YYMMDD")
    if "<" in text:
        return None
    yy, month, day = int(text[0:2]), int(text[2:4]), int(text[4:6])
    if birth and (month == 0 or day == 0):
        return None
    if not 1 <= month <= 12:
        raise InvalidField(field, f"{text!r}: there is no month {month:02d}")
    century = today.year // 100 * 100
    offsets = (0, -100) if birth else (-100, 0, 100)
    dates = [
        date(year, month, day)
        for year in (century + offset + yy for offset in offsets)
        if 1 <= year <= 9999 and 1 <= day <= calendar.monthrange(year, month)[1]
    ]
    if not dates:
        raise InvalidField(field, f"{text!r} is not a calendar date")
    if birth:
        # The later century first; the earlier one is never after today.
        return next((d for d in dates if d <= today), dates[-1])
    return min(dates, key=lambda d: abs((d - today).days))


def format_mrz(zone: MachineReadableZone) -> str:
    """Write ``zone`` as its machine-readable lines, joined by newlines.

    The inverse of :func:`parse_mrz` for zones it can hold: names of
    capitals and spaces that fit the name field (no truncation is done),
    optional data of ``A-Z0-9<`` that fits its field, numbers of at most
    nine characters (TD1: longer ones use the long-number rule), dates that
    the century rules give back. Raises InvalidField naming what does not fit.
    """
    fmt = zone.format
    width = _SHAPE[fmt][1]
    code = _pad(zone.document_code, 2, "document_code")
    state = _pad(zone.issuing_state, 3, "issuing_state")
    nationality = _pad(zone.nationality, 3, "nationality")
    birth = _date_text(zone.birth_date)
    expiry = _date_text(zone.expiry_date)
    sex = "<" if zone.sex == "X" else zone.sex
    if sex not in ("M", "F", "<"):
        raise InvalidField("sex", f"{zone.sex!r} is not M, F or X")
    dates = birth + check_digit(birth) + sex + expiry + check_digit(expiry)
    if fmt is MrzFormat.TD1:
        number_field = _td1_number_field(zone.document_number, zone.optional_data)
        line1 = code + state + number_field
        line2 = dates + nationality + _pad(zone.optional_data_2, 11, "optional")
        line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        lines = [line1, line2, _name_field(zone, width)]
    else:
        number = _pad(zone.document_number, 9, "document_number")
        optional = _pad(zone.optional_data, _OPTIONAL_WIDTH[fmt], "optional_data")
        line2 = number + check_digit(number) + nationality + dates + optional
        if fmt is MrzFormat.TD3:
            line2 += "<" if optional.strip("<") == "" else check_digit(optional)
        if fmt in (MrzFormat.TD3, MrzFormat.TD2):
            line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:])
        lines = [code + state + _name_field(zone, width - 5), line2]
    return "\n".join(lines)


def _pad(text: str, width: int, field: str) -> str:
    if len(text) > width or not _OPTIONAL_TEXT.fullmatch(text):
        raise InvalidField(field, f"{text!r} does not fit {width} MRZ characters")
    return text.ljust(width, "<")


def _date_text(value: date | None) -> str:
    return "<<<<<<" if value is None else value.strftime("%y%m%d")


def _td1_number_field(number: str, optional: str) -> str:
    """Positions 6-30 of TD1 line 1: number, check digit, optional data."""
    if len(number) <= 9:
        field = _pad(number, 9, "document_number")
        return field + check_digit(field) + _pad(optional, 15, "optional_data")
    rest = number[9:] + check_digit(number) + ("<" + optional if optional else "")
    return number[:9] + "<" + _pad(rest, 15, "document_number")


def _name_field(zone: MachineReadableZone, width: int) -> str:
    for field, value in (
        ("primary_identifier", zone.primary_identifier),
        ("secondary_identifiers", zone.secondary_identifiers),
    ):
        if not _NAME_TEXT.fullmatch(value):
            raise InvalidField(field, f"{value!r}: only capitals and spaces can be written")
    text = "<".join(zone.primary_identifier.split())
    if zone.secondary_identifiers.strip():
        text += "<<" + "<".join(zone.secondary_identifiers.split())
    if len(text) > width:
        raise InvalidField("name", f"{len(text)} characters do not fit the {width} of the field")
    return text.ljust(width, "<")

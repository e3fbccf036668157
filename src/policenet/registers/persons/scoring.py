"""Scoring a person record against a query: the name first, then date of birth, nationality, sex.

The name decides whether a record is a candidate at all (its best-matching
name must reach :data:`~.matching.THRESHOLD`). The other facts then move the
score, each with a line in the explanation:

- date of birth: the same day lifts the score half-way to 1, the same year
  (or year and month) a fifth of the way; a year apart, or day and month
  swapped (a common clerical slip), costs 10 %; anything else is a conflict
  and costs 40 % (an exact name with another date of birth is then no hit);
- nationality: a shared one lifts the score a tenth of the way; none shared
  costs 10 % (people change and add nationalities);
- sex: a different one costs 40 %.

A candidate is ``exact`` only when every name part matched exactly and the
full date of birth agrees; everything else is ``possible``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from policenet.domain.countries import validate_country
from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.persons.matching import (
    THRESHOLD,
    NameComparison,
    compare_names,
    name_keys,
)
from policenet.registers.persons.names import ParsedName, parse_name
from policenet.registers.persons.record import BirthDate, Person, Sex, parse_birth_date
from policenet.registers.persons.tokens import How

DATE_LIFT = 0.5
"""The same full date of birth lifts the score this share of the way to 1."""
YEAR_LIFT = 0.2
"""The same year (or year and month) of birth lifts it this share of the way."""
NATIONALITY_LIFT = 0.1
CLOSE_FACTOR = 0.9
"""A year apart, day and month swapped, or no nationality shared."""
CONFLICT_FACTOR = 0.6
"""Another date of birth, or another sex."""

CONFLICT_EXCLUDES = CONFLICT_FACTOR + NATIONALITY_LIFT * (1 - CONFLICT_FACTOR) < THRESHOLD
"""True while a conflicting date of birth or sex can never leave a hit, however exact the
name: the index then need not score such records at all."""


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """What an officer or a national system asks: a name and what else is known."""

    name: ParsedName
    date_of_birth: BirthDate | None = None
    nationality: str | None = None
    sex: Sex | None = None

    def describe(self) -> str:
        parts = [self.name.original]
        if self.date_of_birth:
            parts.append(f"born {self.date_of_birth}")
        if self.nationality:
            parts.append(self.nationality)
        if self.sex:
            parts.append(self.sex.value)
        return ", ".join(parts)


def parse_query(raw: Mapping[str, Any], today: date) -> PersonQuery:
    """A query from its fields (``name``, optional ``date_of_birth``, ``nationality``, ``sex``).

    InvalidField names what is wrong: no name, a name of fewer than two
    letters (nothing can be said about it), an impossible date, an unknown
    country, a sex other than M, F or X.
    """
    text = raw.get("name")
    if not isinstance(text, str) or not text.strip():
        raise InvalidField("name", "is required")
    name = parse_name(text)
    if sum(len(t.text) for t in name.tokens) < 2:
        raise InvalidField("name", f"{text!r} is too short to search (two letters at least)")
    dob = raw.get("date_of_birth")
    nationality = raw.get("nationality")
    sex = str(raw.get("sex") or "").strip().upper()
    if sex and sex not in {s.value for s in Sex}:
        raise InvalidField("sex", f"{sex!r} is not M, F or X")
    return PersonQuery(
        name=name,
        date_of_birth=parse_birth_date(str(dob), today, "date_of_birth") if dob else None,
        nationality=validate_country(str(nationality), "nationality") if nationality else None,
        sex=Sex(sex) if sex else None,
    )


def best_name(query: ParsedName, names: Sequence[ParsedName]) -> tuple[NameComparison, int]:
    """The comparison with the record name that matches ``query`` best, and its position.

    Only the names sharing a spelling or sound key with the query are compared
    (all of them when none does): a name that shares none could match only if
    every one of its parts were mistyped, and comparing is the costly step.
    """
    wanted = name_keys(query)
    order = [i for i, name in enumerate(names) if name_keys(name) & wanted] or range(len(names))
    best: NameComparison | None = None
    at = 0
    for i in order:
        found = compare_names(query, names[i])
        if best is None or found.score > best.score:
            best, at = found, i
            if best.score == 1.0:
                break
    assert best is not None  # names is never empty here
    return best, at


def _births(
    query: BirthDate, births: Sequence[BirthDate], score: float
) -> tuple[float, str | None]:
    if not births:
        return score, "the record has no date of birth"
    agreeing = [b for b in births if query.agrees(b)]
    if agreeing:
        exact = any(query.day and b.day and b == query for b in agreeing)
        if exact:
            return score + (1 - score) * DATE_LIFT, f"date of birth agrees ({query})"
        line = f"date of birth agrees as far as known ({agreeing[0]})"
        return score + (1 - score) * YEAR_LIFT, line
    for b in births:
        swapped = (
            query.day
            and b.day
            and (query.year, query.month, query.day)
            == (
                b.year,
                b.day,
                b.month,
            )
        )
        if swapped or abs(b.year - query.year) == 1:
            return score * CLOSE_FACTOR, f"date of birth close: {query} against {b}"
    shown = ", ".join(str(b) for b in births)
    return score * CONFLICT_FACTOR, f"date of birth conflicts: {query} against {shown}"


def score_person(
    query: PersonQuery, person: Person, names: Sequence[ParsedName], key: str
) -> Candidate | None:
    """The candidate ``person`` makes for ``query``, or None when its names do not match.

    ``names`` are the person's names already parsed (the index keeps them).
    """
    if not names:
        return None
    comparison, at = best_name(query.name, names)
    if comparison.score < THRESHOLD:
        return None
    score = comparison.score
    matched = names[at]
    lines = [f"name {query.name.original!r} matches {matched.original!r} ({comparison.score:.2f})"]
    lines += comparison.explanation()
    exact_date = False
    if query.date_of_birth is not None:
        score, line = _births(query.date_of_birth, person.dates_of_birth, score)
        exact_date = line is not None and line.startswith("date of birth agrees (")
        if line:
            lines.append(line)
    if query.nationality and person.nationalities:
        if query.nationality in person.nationalities:
            score += (1 - score) * NATIONALITY_LIFT
            lines.append(f"nationality agrees ({query.nationality})")
        else:
            score *= CLOSE_FACTOR
            lines.append(
                f"nationality differs: {query.nationality} against "
                f"{', '.join(person.nationalities)}"
            )
    if query.sex and person.sex and query.sex is not person.sex:
        score *= CONFLICT_FACTOR
        lines.append(f"sex differs: {query.sex.value} against {person.sex.value}")
    if score < THRESHOLD:
        return None
    all_exact = (
        comparison.score == 1.0
        and all(p.match.how is How.EXACT for p in comparison.pairs)
        and not comparison.missing
    )
    strength = MatchStrength.EXACT if all_exact and exact_date else MatchStrength.POSSIBLE
    return Candidate(
        key=key, score=round(min(score, 1.0), 4), strength=strength, explanation=tuple(lines)
    )

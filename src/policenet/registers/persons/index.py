"""The in-memory index that finds candidates for a name among millions of persons.

Finding is in two steps:

1. *Blocking*: every name token of every searchable record is filed under two
   keys, its spelling key and its sound key (:mod:`.tokens`). A query's tokens
   look up the same keys. The records on lists no longer than
   :data:`COMMON_POSTINGS` of the register (or :data:`COMMON_FLOOR`) are the candidates (when every
   list is longer, the shortest one's); each candidate gets, per query token,
   the rarity (inverse document frequency) of the best list it is on, a
   sound-alike list weighing :data:`SOUND_WEIGHT` of a spelling's, so common
   tokens ("Mohammed", "Wang") still tell candidates apart; and a bonus when
   its year of birth is the query's. Records whose every date of birth is more
   than a year from the query's, or whose sex is another, are dropped here:
   the scoring would leave them under the threshold however exact the name
   (``CONFLICT_EXCLUDES`` in :mod:`.scoring` says whether that still holds).
2. *Scoring*: the :data:`SHORTLIST` best-placed records (and those tied with
   the last, up to :data:`MAX_SHORTLIST`) are scored in full
   (:func:`.scoring.score_person`) and those over the threshold returned,
   best first.

So a record is found when at least one of its name tokens shares a spelling
or sound key with the query's: a typo in every part of a name at once is not
found (the benchmark measures what this costs in recall).

Records are kept by slot; a changed record takes a new slot and its old one
is marked dead, so lists are only appended to. The index also maps travel
document keys to the persons whose records name them.

Not safe for concurrent writes: the hub wraps it in a lock.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from policenet.registers.base import Candidate
from policenet.registers.persons.matching import token_keys
from policenet.registers.persons.names import ParsedName, Role
from policenet.registers.persons.record import Person, Sex
from policenet.registers.persons.scoring import CONFLICT_EXCLUDES, PersonQuery, score_person
from policenet.registers.persons.tokens import sound_key, spelling_key

SHORTLIST = 48
"""Records scored in full per query (more when records tie at the cut)."""
MAX_SHORTLIST = 128
"""Most records scored in full per query, ties included."""
COMMON_POSTINGS = 0.02
"""Share of all records above which a list only adds to candidates found by rarer lists."""
COMMON_FLOOR = 5_000
"""A list this short is never common (in a small register every list is a large share)."""
SOUND_WEIGHT = 0.6
"""What a sound-alike key weighs against an exact spelling of the same rarity."""
YEAR_BONUS = 0.5
"""What a matching year of birth adds to a record's blocking score (in rarity units)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    person: Person
    names: tuple[ParsedName, ...]


_SEX_CODE = {None: 0, Sex.MALE: 1, Sex.FEMALE: 2, Sex.OTHER: 3}


def _number(document_key: str) -> str:
    return document_key.rsplit(":", 1)[-1]


class PersonIndex:
    """Persons by name (see the module docstring)."""

    def __init__(self) -> None:
        self._slot: dict[str, int] = {}
        self._entries: list[_Entry | None] = []
        self._year_low = array("h")
        self._year_high = array("h")
        """Earliest and latest year of birth a record gives (0: none)."""
        self._sex = array("b")
        self._postings: dict[str, array[int]] = {}
        self._documents: dict[str, set[tuple[str, str]]] = {}
        """Document number -> (document key, person key) of the records that name it."""
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def get(self, key: str) -> Person | None:
        slot = self._slot.get(key)
        entry = self._entries[slot] if slot is not None else None
        return entry.person if entry else None

    def add(self, key: str, person: Person) -> None:
        """Add or replace the record ``key``; a record that is not searchable is only kept
        for its document links (a cancelled notice is not found by name)."""
        self.remove(key)
        for document in person.documents:
            self._documents.setdefault(_number(document), set()).add((document, key))
        names = tuple(n.parsed() for n in person.names) if person.searchable else ()
        slot = len(self._entries)
        self._entries.append(_Entry(key, person, names))
        years = [d.year for d in person.dates_of_birth]
        self._year_low.append(min(years, default=0))
        self._year_high.append(max(years, default=0))
        self._sex.append(_SEX_CODE[person.sex])
        self._slot[key] = slot
        self._live += 1
        for k in {k for name in names for k in token_keys(name)}:
            posting = self._postings.get(k)
            if posting is None:
                posting = self._postings[k] = array("I")
            posting.append(slot)

    def add_many(self, records: Iterable[tuple[str, Person]]) -> None:
        for key, person in records:
            self.add(key, person)

    def remove(self, key: str) -> None:
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        entry = self._entries[slot]
        self._entries[slot] = None
        self._live -= 1
        if entry is not None:
            for document in entry.person.documents:
                links = self._documents.get(_number(document))
                if links is not None:
                    links.discard((document, key))
                    if not links:
                        del self._documents[_number(document)]

    def names_document(self, number: str) -> bool:
        """Whether any record names a travel document with this normalised ``number`` (the
        cheap test before :meth:`linked`, for the many numbers no record names)."""
        return number in self._documents

    def linked(
        self, number: str, issuing_state: str | None = None, document_type: str | None = None
    ) -> list[str]:
        """Keys of the records that name a travel document with this normalised ``number``
        (and issuing state and type, where given)."""
        found = set()
        for document, key in self._documents.get(number, ()):
            state, kind, _ = document.split(":", 2)
            if issuing_state not in (None, state) or document_type not in (None, kind):
                continue
            found.add(key)
        return sorted(found)

    def _lists(self, query: PersonQuery) -> list[list[tuple[array[int], float]]]:
        """Per query name token: its postings with their weights (rarity; a sound-alike
        list weighs :data:`SOUND_WEIGHT` of an exact spelling's)."""
        total = max(len(self._entries), 1)
        found: list[list[tuple[array[int], float]]] = []
        for token in query.name.tokens:
            if token.role is not Role.NAME or len(token.text) < 2:
                continue
            lists: list[tuple[array[int], float]] = []
            spelled = self._postings.get("s" + spelling_key(token.text))
            if spelled is not None:
                lists.append((spelled, math.log((total + 1) / (len(spelled) + 1))))
            sound = sound_key(token.text, token.abjad)
            sounded = self._postings.get("k" + sound) if len(sound) >= 2 else None
            if sounded is not None and sounded is not spelled:
                weight = SOUND_WEIGHT * math.log((total + 1) / (len(sounded) + 1))
                lists.append((sounded, weight))
            if lists:
                found.append(lists)
        return found

    def _blocked(self, query: PersonQuery) -> np.ndarray:
        """The slots to score in full: the best placed by shared name tokens (see the module
        docstring), ties at the cut kept up to :data:`MAX_SHORTLIST`."""
        per_token = self._lists(query)
        if not per_token:
            return np.empty(0, dtype=np.int64)
        common = max(COMMON_POSTINGS * len(self._entries), COMMON_FLOOR)
        generating = [p for lists in per_token for p, _ in lists if len(p) <= common]
        if not generating:  # every token is common: the smallest list finds the candidates
            generating = [min((p for lists in per_token for p, _ in lists), key=len)]
        slots = np.unique(np.concatenate([np.frombuffer(p, dtype=np.uint32) for p in generating]))
        size = len(self._entries)
        token_scores = np.zeros(size, dtype=np.float32)
        totals = np.zeros(len(slots), dtype=np.float32)
        for lists in per_token:
            # within one token the best way it matched counts (an exact spelling over a sound)
            for posting, weight in sorted(lists, key=lambda item: item[1]):
                token_scores[np.frombuffer(posting, dtype=np.uint32)] = weight
            totals += token_scores[slots]
            for posting, _ in lists:
                token_scores[np.frombuffer(posting, dtype=np.uint32)] = 0.0
        possible = np.ones(len(slots), dtype=bool)
        if query.date_of_birth is not None:
            year = query.date_of_birth.year
            low = np.frombuffer(self._year_low, dtype=np.int16)[slots]
            high = np.frombuffer(self._year_high, dtype=np.int16)[slots]
            known = low > 0
            totals += YEAR_BONUS * (known & (low <= year) & (year <= high))
            if CONFLICT_EXCLUDES:
                possible &= ~known | ((low - 1 <= year) & (year <= high + 1))
        if query.sex is not None and CONFLICT_EXCLUDES:
            sexes = np.frombuffer(self._sex, dtype=np.int8)[slots]
            possible &= (sexes == 0) | (sexes == _SEX_CODE[query.sex])
        if not possible.all():
            # records whose date of birth or sex conflicts could never be hits: not scored
            slots, totals = slots[possible], totals[possible]
        if len(slots) <= SHORTLIST:
            return slots.astype(np.int64)
        order = np.argsort(-totals, kind="stable")
        cut = totals[order[SHORTLIST - 1]]
        keep = int(np.searchsorted(-totals[order], -cut, side="right"))
        return slots[order[: min(max(keep, SHORTLIST), MAX_SHORTLIST)]].astype(np.int64)

    def search(self, query: PersonQuery, limit: int = 10) -> list[Candidate]:
        """The candidates for ``query`` over the threshold, best first, at most ``limit``."""
        found: list[Candidate] = []
        for slot in self._blocked(query):
            entry = self._entries[int(slot)]
            if entry is None:
                continue
            candidate = score_person(query, entry.person, entry.names, entry.key)
            if candidate is not None:
                found.append(candidate)
        found.sort(key=lambda c: (-c.score, c.key))
        return found[:limit]

    def search_many(self, queries: Sequence[PersonQuery], limit: int = 10) -> list[list[Candidate]]:
        """:meth:`search` for each query, in order (a screening batch)."""
        return [self.search(q, limit) for q in queries]

    def keys(self) -> list[str]:
        return list(self._slot)

"""The travel documents index: find reported documents by number, exact or OCR-tolerant.

Search semantics (:class:`DocumentProbe`):

- the probe's number is normalised like a record's (:func:`.record.normalise_number`);
- a record matches EXACTLY when its normalised number is the probe's, and
  its issuing state and document type are the probe's where the probe names them;
  a probe without a state searches every country;
- a ``tolerant`` probe also finds records whose number differs only by OCR
  confusions (:mod:`.ocr`), as POSSIBLE with a score of 0.9 per confusion and
  one explanation line per differing position;
- results: exact first, then by score, then by key; at most ``limit``.

Layout, built for 10^8 records at the hub: no Python object per record.
Rows live in numpy columns (the number's bytes run together with an int64
offsets array, a uint16 state id, a uint8 type id, an alive flag). One
sorted uint64 array of hashes of the *canonical* number (confusable
characters folded to one representative) with a parallel uint32 array of
row ids serves both exact and tolerant search: a probe is one binary search,
then an exact character comparison on the few rows found (an exact match is
always also a canonical match). That is 24 bytes plus the number's length
per record (33 bytes for nine-character numbers; 3.3 GB for 10^8), plus up
to a quarter more of growth headroom in the row columns. Hashes are keyed
with a random per-index seed, so nobody can submit numbers built to
collide; the index is rebuilt from the store at start, so the hashes never
leave the process. Batches are answered with vectorised hashing and one
sorted binary search, well above 10^6 probes a second at 10^7 records.

Adds go to a small pending dict that searches also read, merged into the
sorted arrays when it reaches ``merge_threshold`` entries; :meth:`DocumentIndex.add_many`
loads in bulk with one merge. Removals mark rows dead (tombstones); rows are
compacted away once the dead outnumber a quarter of the living (and
``merge_threshold``), or on :meth:`DocumentIndex.compact`.

The index is not safe for concurrent mutation: keep writes and searches on
one thread or behind one lock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.documents.codec import key_parts
from policenet.registers.documents.countries import validate_issuing_state
from policenet.registers.documents.mrz import MachineReadableZone
from policenet.registers.documents.ocr import CANONICAL_MAP, confusion_score, confusions
from policenet.registers.documents.record import (
    MAX_NUMBER_CHARS,
    DocumentStatus,
    DocumentType,
    TravelDocument,
    natural_key,
    normalise_number,
)

_WIDTH = 40  # bytes per number in a hash batch: MAX_NUMBER_CHARS rounded up to whole words
assert _WIDTH >= MAX_NUMBER_CHARS and _WIDTH % 8 == 0


def _canonical_bytes() -> npt.NDArray[np.uint8]:
    """Byte -> byte of its OCR class representative (every other byte to itself)."""
    table = np.arange(256, dtype=np.uint8)
    for read, representative in CANONICAL_MAP.items():
        table[ord(read)] = ord(representative)
    return table


_CANON_BYTES = _canonical_bytes()
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TYPES: tuple[DocumentType, ...] = tuple(DocumentType)
_TYPE_IDS: dict[str, int] = {t.value: i for i, t in enumerate(_TYPES)}
_BULK_CHUNK = 65536
# Below this many probes a batch is looked up in its own order; above, sorted
# first, because binary searches of sorted keys walk memory in order.
_SORT_PROBES_FROM = 256

_U64 = npt.NDArray[np.uint64]
_EMPTY_HASHES: _U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_ROWS: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class DocumentProbe:
    """What an officer or a passport gate asks the register.

    ``number`` is normalised on construction (InvalidField if it cannot be);
    ``issuing_state`` (an ICAO code, validated) and ``document_type`` narrow
    the search when given; ``tolerant`` adds OCR-confusion matches.
    """

    number: str
    issuing_state: str | None = None
    document_type: DocumentType | None = None
    tolerant: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "number", normalise_number(self.number))
        if self.issuing_state is not None:
            state = validate_issuing_state(self.issuing_state, "issuing_state")
            object.__setattr__(self, "issuing_state", state)
        if self.document_type is not None:
            try:
                object.__setattr__(self, "document_type", DocumentType(self.document_type))
            except ValueError:
                known = ", ".join(t.value for t in DocumentType)
                raise InvalidField(
                    "document_type", f"{self.document_type!r} is not one of {known}"
                ) from None


def probe_from_mrz(zone: MachineReadableZone, *, tolerant: bool = True) -> DocumentProbe:
    """The probe for a document read at a border: its number and issuing state.

    The document type is left out on purpose: MRZ document codes do not map
    one to one onto the register's types (an ``I`` may be an ID card or a
    residence permit), and a wrong type would hide a hit.
    """
    return DocumentProbe(zone.document_number, issuing_state=zone.issuing_state, tolerant=tolerant)


class _Column:
    """A growable one-dimensional numpy array (amortised appends, 25% headroom)."""

    def __init__(self, dtype: Any, initial: Sequence[int] = ()) -> None:
        self._data: npt.NDArray[Any] = np.zeros(max(16, len(initial)), dtype=dtype)
        self._data[: len(initial)] = initial
        self.size = len(initial)

    @property
    def view(self) -> npt.NDArray[Any]:
        return self._data[: self.size]

    def _reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed > len(self._data):
            grown = np.zeros(max(needed, len(self._data) * 5 // 4 + 16), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown

    def extend(self, values: npt.NDArray[Any]) -> None:
        self._reserve(len(values))
        self._data[self.size : self.size + len(values)] = values
        self.size += len(values)

    def replace(self, values: npt.NDArray[Any]) -> None:
        self._data = np.array(values, dtype=self._data.dtype)
        self.size = len(values)

    def truncate(self, size: int) -> None:
        self.size = size

    def nbytes(self) -> int:
        return int(self._data.nbytes)


class DocumentIndex:
    """The in-memory index of the travel documents register (a :class:`RegisterIndex`).

    Keys are natural keys (:func:`.record.natural_key`); :meth:`add` refuses a
    key that is not its record's. Adding a key that is present changes
    nothing (everything the index holds is in the key); adding a removed key
    brings it back.
    """

    def __init__(self, *, merge_threshold: int = 65536, seed: int | None = None) -> None:
        self._seed = np.uint64(secrets.randbits(64) if seed is None else seed)
        self._merge_threshold = max(1, merge_threshold)
        self._chars = _Column(np.uint8)
        self._offsets = _Column(np.int64, [0])
        self._states = _Column(np.uint16)
        self._types = _Column(np.uint8)
        self._alive = _Column(np.bool_)
        self._state_codes: list[str] = []
        self._state_ids: dict[str, int] = {}
        self._hashes: _U64 = _EMPTY_HASHES
        self._rows: npt.NDArray[np.uint32] = _EMPTY_ROWS
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0
        self._live = 0
        self._dead = 0

    def __len__(self) -> int:
        return self._live

    # -- writing ---------------------------------------------------------

    def add(self, key: str, record: TravelDocument) -> None:
        """Add ``record`` under ``key``; InvalidField if ``key`` is not its natural key."""
        number, state_id, type_id = self._checked(key, record)
        digest = int(self._hash([number])[0])
        row = self._find(digest, state_id, type_id, number)
        if row is not None:
            self._revive(row)
            return
        row = self._append_rows([number], [state_id], [type_id])
        self._pending.setdefault(digest, []).append(row)
        self._pending_count += 1
        self._live += 1
        if self._pending_count >= self._merge_threshold:
            self._merge_pending()

    def add_many(self, items: Iterable[tuple[str, TravelDocument]]) -> None:
        """Add many records at once (loading the register at start): one merge, same result as
        :meth:`add` for each. If one item is refused, none of them is added."""
        self._merge_pending()
        first_row, first_char = self._alive.size, self._chars.size
        digests: list[_U64] = []
        iterator = iter(items)
        try:
            while chunk := list(islice(iterator, _BULK_CHUNK)):
                numbers, states, types = [], [], []
                for key, record in chunk:
                    number, state_id, type_id = self._checked(key, record)
                    numbers.append(number)
                    states.append(state_id)
                    types.append(type_id)
                digests.append(self._hash(numbers))
                self._append_rows(numbers, states, types)
        except BaseException:
            for column, size in ((self._chars, first_char), (self._offsets, first_row + 1)):
                column.truncate(size)
            for column in (self._states, self._types, self._alive):
                column.truncate(first_row)
            raise
        added = self._alive.size - first_row
        if added == 0:
            return
        self._live += added
        rows = np.arange(first_row, first_row + added, dtype=np.uint32)
        if added * 8 < len(self._hashes):
            # A few records into many: sort the few, insert them (linear, not n log n).
            hashes = np.concatenate(digests)
            order = np.argsort(hashes, kind="stable")
            at = np.searchsorted(self._hashes, hashes[order], side="right")
            self._hashes = np.insert(self._hashes, at, hashes[order])
            self._rows = np.insert(self._rows, at, rows[order])
        else:
            # Dropping references as soon as possible keeps the peak near 55 bytes a record.
            hashes = np.concatenate([self._hashes, *digests])
            digests.clear()
            rows = np.concatenate([self._rows, rows])
            self._hashes, self._rows = _EMPTY_HASHES, _EMPTY_ROWS
            order = np.argsort(hashes, kind="stable")  # equal hashes stay in row order
            hashes = hashes[order]
            rows = rows[order]
            del order
            self._hashes, self._rows = hashes, rows
        self._drop_duplicates(first_row)

    def add_keys(self, keys: Iterable[str]) -> None:
        """Add records known only by their natural keys (loading from the store at start).

        The index keeps nothing but the state, type and number, which the key
        holds; the status given to the stand-in records here is never read.
        """

        def stand_ins() -> Iterator[tuple[str, TravelDocument]]:
            for key in keys:
                state, kind, number = key_parts(key)
                yield key, TravelDocument(state, kind, number, DocumentStatus.LOST)

        self.add_many(stand_ins())

    def remove(self, key: str) -> None:
        """Remove the record under ``key``; an unknown or malformed key does nothing."""
        found = self._locate(key)
        if found is None or not self._alive.view[found]:
            return
        self._alive.view[found] = False
        self._live -= 1
        self._dead += 1
        if self._dead >= max(self._merge_threshold, self._live // 4):
            self.compact()

    def compact(self) -> None:
        """Merge pending adds and drop removed rows, renumbering the rest."""
        self._merge_pending()
        alive = self._alive.view
        if alive.all():
            return
        new_ids = np.cumsum(alive, dtype=np.int64) - 1
        keep = alive[self._rows]
        self._hashes = self._hashes[keep]
        self._rows = new_ids[self._rows[keep]].astype(np.uint32)
        offsets = self._offsets.view
        lengths = np.diff(offsets)
        self._chars.replace(self._chars.view[np.repeat(alive, lengths)])
        self._offsets.replace(np.concatenate([[0], np.cumsum(lengths[alive])]))
        self._states.replace(self._states.view[alive])
        self._types.replace(self._types.view[alive])
        self._alive.replace(np.ones(int(alive.sum()), dtype=np.bool_))
        self._dead = 0

    # -- searching -------------------------------------------------------

    def search(self, probe: DocumentProbe, limit: int = 10) -> list[Candidate]:
        """Candidates for ``probe``, best first, at most ``limit`` (see the module docstring)."""
        return self.search_many([probe], limit)[0]

    def search_many(
        self, probes: Sequence[DocumentProbe], limit: int = 10
    ) -> list[list[Candidate]]:
        """:meth:`search` for each probe, in one pass; the answers are in the probes' order."""
        results: list[list[Candidate]] = [[] for _ in probes]
        if not probes or self._live == 0 or limit < 1:
            return results
        digests = self._hash([probe.number for probe in probes])
        for i, rows in self._rows_for(digests).items():
            results[i] = self._candidates(probes[i], rows, limit)
        return results

    def _rows_for(self, digests: _U64) -> dict[int, list[int]]:
        """Probe position -> rows whose canonical hash it shares (alive or not)."""
        found: dict[int, list[int]] = {}
        size = len(self._hashes)
        if size:
            order = np.argsort(digests) if len(digests) >= _SORT_PROBES_FROM else None
            keys = digests if order is None else digests[order]
            starts = np.searchsorted(self._hashes, keys, side="left")
            hit = self._hashes[np.minimum(starts, size - 1)] == keys
            if hit.any():
                ends = np.searchsorted(self._hashes, keys[hit], side="right")
                where = np.flatnonzero(hit) if order is None else order[hit]
                for i, start, end in zip(
                    where.tolist(), starts[hit].tolist(), ends.tolist(), strict=True
                ):
                    found[i] = self._rows[start:end].tolist()
        if self._pending:
            pending = self._pending
            for i, digest in enumerate(digests.tolist()):
                rows = pending.get(digest)
                if rows:
                    found.setdefault(i, []).extend(rows)
        return found

    def _candidates(self, probe: DocumentProbe, rows: list[int], limit: int) -> list[Candidate]:
        state_id = None if probe.issuing_state is None else self._state_ids.get(probe.issuing_state)
        if probe.issuing_state is not None and state_id is None:
            return []
        type_id = None if probe.document_type is None else _TYPE_IDS[probe.document_type]
        alive, states, types = self._alive.view, self._states.view, self._types.view
        found: list[Candidate] = []
        for row in rows:
            if not alive[row] or (state_id is not None and states[row] != state_id):
                continue
            if type_id is not None and types[row] != type_id:
                continue
            number = self._number(row)
            differences = confusions(probe.number, number)
            if differences is None or (differences and not probe.tolerant):
                continue
            state, kind = self._state_codes[states[row]], _TYPES[types[row]]
            context = (
                f"issuing state {state}"
                + (" matches" if state_id is not None else " (the probe named none)"),
                f"document type {kind.value}"
                + (" matches" if type_id is not None else " (the probe named none)"),
            )
            key = f"{state}:{kind.value}:{number}"
            if not differences:
                lead = f"document number {number} matches exactly"
                found.append(Candidate(key, 1.0, MatchStrength.EXACT, (lead, *context)))
                continue
            count = len(differences)
            lead = (
                f"document number {number} (read as {probe.number}) matches only under "
                f"OCR tolerance ({count} confusion{'s' if count > 1 else ''})"
            )
            explanation = (lead, *(d.explain() for d in differences), *context)
            found.append(
                Candidate(key, confusion_score(count), MatchStrength.POSSIBLE, explanation)
            )
        found.sort(key=lambda c: (c.strength is not MatchStrength.EXACT, -c.score, c.key))
        return found[:limit]

    # -- internals -------------------------------------------------------

    def _hash(self, numbers: Sequence[str]) -> _U64:
        """Keyed 64-bit hashes of the canonical forms of normalised ``numbers``."""
        raw = np.array(numbers, dtype=f"S{_WIDTH}").view(np.uint8).reshape(len(numbers), _WIDTH)
        words = _CANON_BYTES[raw].view(np.uint64)
        digest = np.full(len(numbers), self._seed, dtype=np.uint64)
        for column in range(words.shape[1]):
            digest ^= words[:, column]
            digest *= _MIX1
            digest ^= digest >> np.uint64(29)
        digest *= _MIX2
        digest ^= digest >> np.uint64(32)
        return digest

    def _checked(self, key: str, record: TravelDocument) -> tuple[str, int, int]:
        expected = natural_key(record)
        if key != expected:
            raise InvalidField("key", f"{key!r} is not the natural key {expected!r} of the record")
        state_id = self._state_ids.get(record.issuing_state)
        if state_id is None:
            if len(self._state_codes) > np.iinfo(np.uint16).max:
                raise InvalidField("issuing_state", "too many distinct issuing states")
            state_id = len(self._state_codes)
            self._state_codes.append(record.issuing_state)
            self._state_ids[record.issuing_state] = state_id
        return expected.rsplit(":", 1)[1], state_id, _TYPE_IDS[record.document_type]

    def _append_rows(self, numbers: list[str], states: list[int], types: list[int]) -> int:
        """Append rows; return the id of the first."""
        first = self._alive.size
        if first + len(numbers) > np.iinfo(np.uint32).max:
            raise InvalidField("records", "the index holds at most 2**32 - 1 rows")
        lengths = np.fromiter(map(len, numbers), dtype=np.int64, count=len(numbers))
        self._chars.extend(np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8))
        self._offsets.extend(self._offsets.view[-1] + np.cumsum(lengths))
        self._states.extend(np.array(states, dtype=np.uint16))
        self._types.extend(np.array(types, dtype=np.uint8))
        self._alive.extend(np.ones(len(numbers), dtype=np.bool_))
        return first

    def _number(self, row: int) -> str:
        offsets = self._offsets.view
        return self._chars.view[offsets[row] : offsets[row + 1]].tobytes().decode("ascii")

    def _find(self, digest: int, state_id: int, type_id: int, number: str) -> int | None:
        """The row holding (state, type, number), alive or not, or None."""
        rows = self._rows_for(np.array([digest], dtype=np.uint64)).get(0, [])
        states, types = self._states.view, self._types.view
        for row in rows:
            if states[row] == state_id and types[row] == type_id and self._number(row) == number:
                return row
        return None

    def _locate(self, key: str) -> int | None:
        state, _, rest = key.partition(":")
        kind, _, number = rest.partition(":")
        state_id, type_id = self._state_ids.get(state), _TYPE_IDS.get(kind)
        if state_id is None or type_id is None:
            return None
        try:
            if normalise_number(number) != number:
                return None
        except InvalidField:
            return None
        return self._find(int(self._hash([number])[0]), state_id, type_id, number)

    def _revive(self, row: int) -> None:
        if not self._alive.view[row]:
            self._alive.view[row] = True
            self._live += 1
            self._dead -= 1

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        pairs = sorted((digest, row) for digest, rows in self._pending.items() for row in rows)
        hashes = np.array([digest for digest, _ in pairs], dtype=np.uint64)
        rows = np.array([row for _, row in pairs], dtype=np.uint32)
        at = np.searchsorted(self._hashes, hashes, side="right")
        self._hashes = np.insert(self._hashes, at, hashes)
        self._rows = np.insert(self._rows, at, rows)
        self._pending.clear()
        self._pending_count = 0

    def _drop_duplicates(self, first_new: int) -> None:
        """After a bulk load: keep one row per (state, type, number), the oldest.

        A new row equal to an older one is dropped (and the older one revived
        if it had been removed). Only runs of equal hashes that hold a new
        row are compared, so the cost follows the number of collisions.
        """
        hashes, rows = self._hashes, self._rows
        same = np.flatnonzero(hashes[1:] == hashes[:-1])
        if not len(same):
            return
        newer = (rows[same] >= first_new) | (rows[same + 1] >= first_new)
        drop: list[int] = []
        seen_runs: set[int] = set()
        for at in same[newer].tolist():
            start = at
            while start > 0 and hashes[start - 1] == hashes[at]:
                start -= 1
            if start in seen_runs:
                continue
            seen_runs.add(start)
            end = at + 1
            while end + 1 < len(hashes) and hashes[end + 1] == hashes[at]:
                end += 1
            kept: dict[tuple[int, int, str], int] = {}
            for position in range(start, end + 1):
                row = int(rows[position])
                identity = (
                    int(self._states.view[row]),
                    int(self._types.view[row]),
                    self._number(row),
                )
                if identity not in kept:
                    kept[identity] = row
                    continue
                drop.append(position)
                self._alive.view[row] = False
                self._live -= 1
                self._dead += 1
                self._revive(kept[identity])
        if drop:
            mask = np.ones(len(hashes), dtype=np.bool_)
            mask[drop] = False
            self._hashes, self._rows = hashes[mask], rows[mask]

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (capacity, not only the used part)."""
        columns = (self._chars, self._offsets, self._states, self._types, self._alive)
        return sum(c.nbytes() for c in columns) + self._hashes.nbytes + self._rows.nbytes

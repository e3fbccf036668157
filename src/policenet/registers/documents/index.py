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
to a quarter more of growth headroom in the row columns, plus a directory
of the hashes' top bits (2 to 4 bytes a record, built at the first batch
after a change). Hashes are keyed with a random per-index seed, so nobody
can submit numbers built to collide; the index is rebuilt from the store at
start, so the hashes never leave the process. Batches are answered with
vectorised hashing, a lookup through the directory (a binary search over
10^8 hashes misses the caches at every step) and a vectorised comparison
of the numbers found, so Python builds only each hit's candidate, from
parts cached per issuing state and type; a few probes are looked up one by
one, in plain Python (figures in docs/benchmarks.md).

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
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.documents.countries import validate_issuing_state
from policenet.registers.documents.mrz import MachineReadableZone
from policenet.registers.documents.ocr import (
    CANONICAL_MAP,
    canonical,
    confusion_score,
    confusions,
)
from policenet.registers.documents.record import (
    MAX_NUMBER_CHARS,
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
_CANON_TABLE = _CANON_BYTES.tobytes()  # the same map for bytes.translate
_MIX1_INT, _MIX2_INT, _MASK64 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 2**64 - 1
_MIX1, _MIX2 = np.uint64(_MIX1_INT), np.uint64(_MIX2_INT)
_POSITIONS = np.arange(_WIDTH, dtype=np.int64)
_TYPES: tuple[DocumentType, ...] = tuple(DocumentType)
_TYPE_IDS: dict[str, int] = {t.value: i for i, t in enumerate(_TYPES)}
_BULK_CHUNK = 65536
# Below this many probes a batch is looked up in its own order; above, sorted
# first, because binary searches of sorted keys walk memory in order.
_SORT_PROBES_FROM = 256
# From this many probes a batch is answered with numpy (:meth:`DocumentIndex._search_batch`);
# fewer are looked up one by one, where numpy's cost per call would dominate.
_VECTORISED_FROM = 16

_NO_CANDIDATES: tuple[Candidate, ...] = ()
# From this many sorted hashes a batch finds its probes through a directory of their top
# bits, with about _PER_BUCKET hashes a bucket (2.7 bytes a record at 10^8 records).
_DIRECTORY_FROM = 1 << 16
_PER_BUCKET = 2
_REBUILD_FROM = 4 * _PER_BUCKET  # hashes a bucket on average: built again with more bits
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


def _key_parts(key: str) -> tuple[str, int, str] | None:
    """(issuing state, type id, number) of a key shaped as :func:`natural_key` writes one
    (a known type, a normalised number), or None; the state is not checked here."""
    parts = key.split(":")
    if len(parts) != 3:
        return None
    state, kind, number = parts
    type_id = _TYPE_IDS.get(kind)
    try:
        normalised = normalise_number(number) == number
    except InvalidField:
        return None
    return (state, type_id, number) if type_id is not None and normalised else None


def _is_state_as_keyed(code: str) -> bool:
    """Whether ``code`` is an issuing state written as a key writes it (``D``, not ``DEU``)."""
    try:
        return validate_issuing_state(code) == code
    except InvalidField:
        return False


def _exact(number: str, prefix: str, context: tuple[str, str]) -> Candidate:
    """The EXACT candidate of a stored ``number`` (``prefix``, ``context``: see ``_parts``)."""
    lead = f"document number {number} matches exactly"
    return Candidate(prefix + number, 1.0, MatchStrength.EXACT, (lead, *context))


def _possible(read: str, number: str, prefix: str, context: tuple[str, str]) -> Candidate:
    """The POSSIBLE candidate of a stored ``number`` confusable with the ``read`` one."""
    differences = confusions(read, number) or ()
    count = len(differences)
    lead = (
        f"document number {number} (read as {read}) matches only under "
        f"OCR tolerance ({count} confusion{'s' if count > 1 else ''})"
    )
    explanation = (lead, *(d.explain() for d in differences), *context)
    return Candidate(prefix + number, confusion_score(count), MatchStrength.POSSIBLE, explanation)


_STATE_NAMED, _TYPE_NAMED = 2, 1
_CODES_PER_STATE = 4 * len(_TYPES)


def _parts_code(states: npt.NDArray[Any], types: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """A number for each (state id, type id) that leaves its low two bits for what the probe
    named (``_STATE_NAMED``, ``_TYPE_NAMED``): the key of a candidate's cached parts."""
    return states.astype(np.int64) * _CODES_PER_STATE + types.astype(np.int64) * 4


def _ranked(found: list[Candidate], limit: int) -> list[Candidate]:
    """``found`` best first (exact, then by score, then by key), at most ``limit``."""
    found.sort(key=lambda c: (c.strength is not MatchStrength.EXACT, -c.score, c.key))
    return found[:limit]


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

    def __init__(
        self,
        *,
        merge_threshold: int = 65536,
        seed: int | None = None,
        directory_from: int = _DIRECTORY_FROM,
    ) -> None:
        """``directory_from``: the size of the sorted arrays from which a batch finds its
        probes through the directory (:meth:`_lower_bounds`); tests set it low."""
        self._seed = np.uint64(secrets.randbits(64) if seed is None else seed)
        self._directory_from = directory_from
        self._directory: tuple[npt.NDArray[np.uint32], np.uint64] | None = None
        self._merge_threshold = max(1, merge_threshold)
        self._chars = _Column(np.uint8)
        self._offsets = _Column(np.int64, [0])
        self._states = _Column(np.uint16)
        self._types = _Column(np.uint8)
        self._alive = _Column(np.bool_)
        self._state_codes: list[str] = []
        self._state_ids: dict[str, int] = {}
        self._sorted: _U64 = _EMPTY_HASHES
        self._rows: npt.NDArray[np.uint32] = _EMPTY_ROWS
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0
        self._live = 0
        self._dead = 0
        # _parts_code + flags -> key prefix, context lines (see _parts)
        self._explained: dict[int, tuple[str, tuple[str, str]]] = {}

    def __len__(self) -> int:
        return self._live

    @property
    def _hashes(self) -> _U64:
        """The sorted canonical hashes (parallel to ``_rows``); setting them drops the
        directory, which the next batch builds again."""
        return self._sorted

    @_hashes.setter
    def _hashes(self, hashes: _U64) -> None:
        self._sorted = hashes
        self._directory = None

    # -- writing ---------------------------------------------------------

    def add(self, key: str, record: TravelDocument) -> None:
        """Add ``record`` under ``key``; InvalidField if ``key`` is not its natural key."""
        number, state_id, type_id = self._checked(key, record)
        digest = self._hash_one(number)
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
        self._add_rows(self._checked(key, record) for key, record in items)

    def add_keys(self, keys: Iterable[str]) -> None:
        """Add records known only by their natural keys (loading from the store at start).

        The index keeps nothing but the state, type and number, which the key
        holds, so a key is checked and split without building its record (five
        times faster: this is most of a hub's start). InvalidField for a key that
        is not a natural key; then none of them is added.
        """
        self._add_rows(map(self._key_row, keys))

    def _add_rows(self, parsed: Iterable[tuple[str, int, int]]) -> None:
        """:meth:`add_many` of rows already checked: (number, state id, type id)."""
        self._merge_pending()
        first_row, first_char = self._alive.size, self._chars.size
        digests: list[_U64] = []
        iterator = iter(parsed)
        try:
            while chunk := list(islice(iterator, _BULK_CHUNK)):
                numbers = [number for number, _, _ in chunk]
                states = [state_id for _, state_id, _ in chunk]
                types = [type_id for _, _, type_id in chunk]
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
            self._insert_sorted(hashes[order], rows[order])
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
        return list(self.search_many([probe], limit)[0])

    def search_many(
        self, probes: Sequence[DocumentProbe], limit: int = 10
    ) -> list[Sequence[Candidate]]:
        """:meth:`search` for each probe, in one pass; the answers are in the probes' order.

        A few probes are looked up one by one; a batch of ``_VECTORISED_FROM``
        or more is hashed, looked up and compared with numpy, leaving Python
        only the candidates to build (see :meth:`_search_batch`). Both give
        the same answers. A probe without candidates gets one shared empty
        tuple, not a list of its own: at a border almost every probe misses,
        and 10,000 new lists a batch would be most of its cost (and of the
        garbage collector's).
        """
        results: list[Sequence[Candidate]] = [_NO_CANDIDATES] * len(probes)
        if not probes or self._live == 0 or limit < 1:
            return results
        if len(probes) >= _VECTORISED_FROM:
            self._search_batch(probes, limit, results)
            return results
        for i, probe in enumerate(probes):
            rows = self._rows_of(self._hash_one(probe.number))
            if rows:
                results[i] = self._candidates(probe, rows, limit)
        return results

    def _search_batch(
        self, probes: Sequence[DocumentProbe], limit: int, results: list[Sequence[Candidate]]
    ) -> None:
        """Fill ``results`` for a batch: vectorised hashing, lookup and number comparison.

        Every (probe, row) pair sharing a canonical hash is compared at once:
        the same length and the same canonical bytes make the row a match (a
        hash collision otherwise), and the count of differing bytes says
        exact (0) or OCR-tolerant. Python then only filters on state, type and
        liveness and builds each hit's :class:`Candidate` from cached parts.
        """
        raw = np.array([probe.number for probe in probes], dtype=f"S{_WIDTH}")
        at, rows = self._pairs(self._hash_raw(raw))
        if not len(at):
            return
        offsets = self._offsets.view
        starts = offsets[rows]
        lengths = offsets[rows + 1] - starts
        read_bytes = raw[at].view(np.uint8).reshape(len(at), _WIDTH)
        read_lengths = np.count_nonzero(read_bytes, axis=1)  # numbers hold no NUL
        # Compare only as many columns as the longest number needs (NUL padded).
        width = int(max(lengths.max(), read_lengths.max()))
        read_bytes = read_bytes[:, :width]
        positions = _POSITIONS[:width]
        chars = self._chars.view
        stored = chars[np.minimum(starts[:, None] + positions, len(chars) - 1)]
        stored[positions >= lengths[:, None]] = 0
        confusable = (read_lengths == lengths) & (
            _CANON_BYTES[read_bytes] == _CANON_BYTES[stored]
        ).all(axis=1)
        differing = np.count_nonzero(read_bytes != stored, axis=1)
        kept = np.flatnonzero(self._alive.view[rows] & confusable)
        at, rows, differing = at[kept], rows[kept], differing[kept]
        codes = _parts_code(self._states.view[rows], self._types.view[rows])
        state_codes = self._state_codes
        for i, row, code, differences in zip(
            at.tolist(), rows.tolist(), codes.tolist(), differing.tolist(), strict=True
        ):
            probe = probes[i]
            named_state, named_type = probe.issuing_state, probe.document_type
            if named_state is not None:
                if state_codes[code // _CODES_PER_STATE] != named_state:
                    continue
                code += _STATE_NAMED
            if named_type is not None:
                if _TYPES[code // 4 % len(_TYPES)] is not named_type:
                    continue
                code += _TYPE_NAMED
            if differences and not probe.tolerant:
                continue
            parts = self._parts(code)
            if differences:
                candidate = _possible(probe.number, self._number(row), *parts)
            else:
                candidate = _exact(probe.number, *parts)
            found = results[i]
            if found:
                cast(list[Candidate], found).append(candidate)
            else:
                results[i] = [candidate]
        several = np.flatnonzero(np.bincount(at) > 1) if len(at) else at
        for i in several.tolist():
            if len(results[i]) > 1:
                results[i] = _ranked(list(results[i]), limit)

    def _pairs(self, digests: _U64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """(probe positions, rows) of every row sharing a probe's canonical hash (alive or not)."""
        size = len(self._hashes)
        found_at: list[npt.NDArray[np.intp]] = []
        found_rows: list[npt.NDArray[np.intp]] = []
        if size:
            order = np.argsort(digests) if len(digests) >= _SORT_PROBES_FROM else None
            keys = digests if order is None else digests[order]
            starts = self._lower_bounds(keys)
            hit = self._hashes[np.minimum(starts, size - 1)] == keys
            if hit.any():
                starts, found = starts[hit], keys[hit]
                # Runs of equal hashes are rare (collisions, one number in several
                # countries): a second binary search only for probes whose run goes on.
                counts = np.ones(len(starts), dtype=np.intp)
                longer = np.flatnonzero(self._hashes[np.minimum(starts + 1, size - 1)] == found)
                longer = longer[starts[longer] + 1 < size]
                if len(longer):
                    ends = np.searchsorted(self._hashes, found[longer], side="right")
                    counts[longer] = ends - starts[longer]
                where = np.flatnonzero(hit) if order is None else order[hit]
                # each probe's run of equal hashes, laid end to end
                before = np.cumsum(counts) - counts
                positions = np.repeat(starts - before, counts) + np.arange(int(counts.sum()))
                found_at.append(np.repeat(where, counts).astype(np.intp))
                found_rows.append(self._rows[positions].astype(np.intp))
        if self._pending:
            pending = self._pending
            extra = [
                (i, row)
                for i, digest in enumerate(digests.tolist())
                for row in pending.get(digest, ())
            ]
            if extra:
                found_at.append(np.array([i for i, _ in extra], dtype=np.intp))
                found_rows.append(np.array([row for _, row in extra], dtype=np.intp))
        if not found_at:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        return np.concatenate(found_at), np.concatenate(found_rows)

    def _lower_bounds(self, keys: _U64) -> npt.NDArray[np.intp]:
        """``np.searchsorted(self._hashes, keys, side="left")``, found through a directory of
        the hashes' top bits once the arrays are large.

        A binary search over a sorted array of 10^8 hashes (800 MB) misses the
        processor's caches at nearly every step; the directory gives each probe
        the few positions whose hashes share its top bits (about 1.5 on average:
        hashes are uniform), which are then stepped through with numpy.
        """
        hashes = self._sorted
        if len(hashes) < self._directory_from:
            return np.searchsorted(hashes, keys, side="left")
        directory, shift = self._directory_now()
        buckets = (keys >> shift).astype(np.intp)
        starts = directory[buckets].astype(np.intp)
        ends = directory[buckets + 1].astype(np.intp)
        active = np.flatnonzero(starts < ends)
        while len(active):
            active = active[hashes[starts[active]] < keys[active]]
            starts[active] += 1
            active = active[starts[active] < ends[active]]
        return starts

    def _directory_now(self) -> tuple[npt.NDArray[np.uint32], np.uint64]:
        """For ``2**bits`` buckets of the hashes' top bits, where each bucket starts in the
        sorted arrays (and where the last ends); built again after every change."""
        if self._directory is None:
            bits = max(1, (len(self._sorted) // _PER_BUCKET).bit_length())
            shift = np.uint64(64 - bits)
            counts = np.bincount((self._sorted >> shift).astype(np.intp), minlength=1 << bits)
            directory = np.zeros((1 << bits) + 1, dtype=np.uint32)
            np.cumsum(counts, dtype=np.uint32, out=directory[1:])
            self._directory = (directory, shift)
        return self._directory

    def _rows_of(self, digest: int) -> list[int]:
        """The rows whose canonical hash is ``digest`` (alive or not)."""
        found: list[int] = []
        if len(self._hashes):
            key = np.uint64(digest)
            start = int(self._hashes.searchsorted(key, side="left"))
            if start < len(self._hashes) and int(self._hashes[start]) == digest:
                end = int(self._hashes.searchsorted(key, side="right"))
                found = self._rows[start:end].tolist()
        if self._pending:
            found.extend(self._pending.get(digest, ()))
        return found

    def _candidates(self, probe: DocumentProbe, rows: list[int], limit: int) -> list[Candidate]:
        """The candidates among ``rows`` for one probe (the path of a few probes)."""
        named_state, named_type = probe.issuing_state, probe.document_type
        alive, states, types = self._alive.view, self._states.view, self._types.view
        found: list[Candidate] = []
        for row in rows:
            if not alive[row]:
                continue
            state, kind = states[row], types[row]
            if named_state is not None and self._state_codes[state] != named_state:
                continue
            if named_type is not None and _TYPES[kind] is not named_type:
                continue
            number = self._number(row)
            exact = number == probe.number
            if not exact and not (probe.tolerant and canonical(number) == canonical(probe.number)):
                continue  # not confusable (a hash collision), or confusable but not asked for
            code = int(_parts_code(state, kind))
            code += _STATE_NAMED if named_state is not None else 0
            code += _TYPE_NAMED if named_type is not None else 0
            parts = self._parts(code)
            found.append(
                _exact(number, *parts) if exact else _possible(probe.number, number, *parts)
            )
        return _ranked(found, limit) if len(found) > 1 else found

    def _parts(self, code: int) -> tuple[str, tuple[str, str]]:
        """The key prefix (``STATE:type:``) and the two context lines of a candidate, by
        :func:`_parts_code` plus the flags of what the probe named; cached."""
        cached = self._explained.get(code)
        if cached is None:
            state = self._state_codes[code // _CODES_PER_STATE]
            kind = _TYPES[code // 4 % len(_TYPES)].value
            state_named, type_named = code & _STATE_NAMED, code & _TYPE_NAMED
            cached = (
                f"{state}:{kind}:",
                (
                    f"issuing state {state}"
                    + (" matches" if state_named else " (the probe named none)"),
                    f"document type {kind}"
                    + (" matches" if type_named else " (the probe named none)"),
                ),
            )
            self._explained[code] = cached
        return cached

    # -- internals -------------------------------------------------------

    def _hash(self, numbers: Sequence[str]) -> _U64:
        """Keyed 64-bit hashes of the canonical forms of normalised ``numbers``."""
        return self._hash_raw(np.array(numbers, dtype=f"S{_WIDTH}"))

    def _hash_raw(self, raw: npt.NDArray[np.bytes_]) -> _U64:
        """:meth:`_hash` of numbers already in a NUL-padded ``S{_WIDTH}`` array."""
        canonical_bytes = raw.tobytes().translate(_CANON_TABLE)
        words = np.frombuffer(canonical_bytes, dtype=np.uint64).reshape(len(raw), _WIDTH // 8)
        digest = np.full(len(raw), self._seed, dtype=np.uint64)
        for column in range(words.shape[1]):
            digest ^= words[:, column]
            digest *= _MIX1
            digest ^= digest >> np.uint64(29)
        digest *= _MIX2
        digest ^= digest >> np.uint64(32)
        return digest

    def _hash_one(self, number: str) -> int:
        """:meth:`_hash` of one number, in plain Python (cheaper than numpy for one)."""
        data = number.encode("ascii").translate(_CANON_TABLE).ljust(_WIDTH, b"\0")
        digest = int(self._seed)
        for at in range(0, _WIDTH, 8):
            digest ^= int.from_bytes(data[at : at + 8], sys.byteorder)
            digest = (digest * _MIX1_INT) & _MASK64
            digest ^= digest >> 29
        digest = (digest * _MIX2_INT) & _MASK64
        return digest ^ (digest >> 32)

    def _checked(self, key: str, record: TravelDocument) -> tuple[str, int, int]:
        expected = natural_key(record)
        if key != expected:
            raise InvalidField("key", f"{key!r} is not the natural key {expected!r} of the record")
        state_id = self._state_id(record.issuing_state)
        return expected.rsplit(":", 1)[1], state_id, _TYPE_IDS[record.document_type]

    def _key_row(self, key: str) -> tuple[str, int, int]:
        """(number, state id, type id) of a natural key, checked as :func:`natural_key` makes
        them; InvalidField naming the key otherwise."""
        found = _key_parts(key)
        if found is not None:
            state, type_id, number = found
            state_id = self._state_ids.get(state)
            if state_id is None and _is_state_as_keyed(state):
                state_id = self._state_id(state)
            if state_id is not None:
                return number, state_id, type_id
        raise InvalidField("key", f"{key!r} is not a travel document key")

    def _state_id(self, state: str) -> int:
        """The id of a validated issuing state, given one the first time it is seen."""
        state_id = self._state_ids.get(state)
        if state_id is None:
            if len(self._state_codes) > np.iinfo(np.uint16).max:
                raise InvalidField("issuing_state", "too many distinct issuing states")
            state_id = len(self._state_codes)
            self._state_codes.append(state)
            self._state_ids[state] = state_id
        return state_id

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
        states, types = self._states.view, self._types.view
        for row in self._rows_of(digest):
            if states[row] == state_id and types[row] == type_id and self._number(row) == number:
                return row
        return None

    def _locate(self, key: str) -> int | None:
        found = _key_parts(key)
        state_id = None if found is None else self._state_ids.get(found[0])
        if found is None or state_id is None:
            return None
        _, type_id, number = found
        return self._find(self._hash_one(number), state_id, type_id, number)

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
        self._insert_sorted(hashes, rows)
        self._pending.clear()
        self._pending_count = 0

    def _insert_sorted(self, hashes: _U64, rows: npt.NDArray[np.uint32]) -> None:
        """Insert sorted ``hashes`` and their ``rows`` into the sorted arrays (after equal
        hashes already there), updating the directory, if built, rather than building it
        again: at 10^8 records that takes seconds, the update a tenth of one."""
        directory = self._directory
        at = np.searchsorted(self._sorted, hashes, side="right")
        self._hashes = np.insert(self._sorted, at, hashes)  # drops the directory
        self._rows = np.insert(self._rows, at, rows)
        if directory is None:
            return
        table, shift = directory
        if len(self._sorted) > _REBUILD_FROM * (len(table) - 1):
            return  # crowded buckets: the next batch builds it with more bits
        grown = np.zeros(len(table), dtype=np.uint32)
        np.add.at(grown, (hashes >> shift).astype(np.intp) + 1, 1)
        np.cumsum(grown, out=grown)
        table += grown
        self._directory = (table, shift)

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
        directory = 0 if self._directory is None else self._directory[0].nbytes
        return (
            sum(c.nbytes() for c in columns) + self._sorted.nbytes + self._rows.nbytes + directory
        )

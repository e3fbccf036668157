"""The DNA index: screen millions of profiles for a probe in one vectorised pass per locus.

Search semantics (:meth:`DnaIndex.search`): a probe is compared with the
stored profiles of the categories :func:`.matching.direct_targets` names for
it (or of ``categories``), never with the stored profile under its own key,
and a profile is a candidate when :func:`.matching.best_match` finds a rule
at the asked stringency (default moderate, as NDIS searches) with at least
``min_loci`` compared loci (default 6). Candidates come best first: full,
near, moderate, low; then by more loci compared; then by key. Scores are
:data:`.matching.RULE_SCORES`; a full match is ``EXACT``, anything else
``POSSIBLE``. Each candidate carries its rule, the compared loci, the loci
that differ and a person-readable explanation (:class:`DnaCandidate`).

Layout, built for 10^7 profiles: no Python object per profile. Each locus
keeps a table of the allele sets seen there (genotypes, and the allele sets
of mixtures alike), and a column of one small integer per profile: 0 for
"not typed", else the row of its allele set in the table. A column is
``uint8`` while its locus has fewer than 256 allele sets, then ``uint16``
(``uint32`` past 65,535). For the 20 CODIS loci, with alleles drawn from
the NIST 1036 frequencies, that is 17 one-byte and 3 two-byte columns
(D12S391, D21S11, FGA): 23 bytes a profile. One byte more holds the
category, the mixture flag and the removed flag. The key is kept as the
reference's UTF-8 bytes with an offset (4 bytes, 8 past 4 GB of text) and
found again through a sorted array of 32-bit keyed hashes with row ids
(8 bytes); collisions are checked on the bytes.

A search builds, per probe locus, a lookup table over that locus's allele
sets (numpy over the table's allele bitmasks) whose entries pack five counts
into a ``uint32``: loci compared, not identical, not included, disjoint, and
alleles different (for near matches). One ``take`` per locus adds them up
per profile. The first locus (the one expected to exclude most profiles,
from how many profiles hold each allele set) runs over all rows; after it,
only the rows still in the running are carried on, so the later loci cost
little. The few survivors are classified from their counts, and the best
``limit`` are decoded and classified again, and explained, by the pure rules
in :mod:`.matching`; the tests check that the screen finds exactly the
profiles those rules accept.

Removals mark rows (tombstones), compacted away once they outnumber a
quarter of the living or on :meth:`DnaIndex.compact`. Adds of single
profiles go to a small pending dict of key hashes, merged in bulk. The
index is not safe for concurrent mutation: keep writes and searches on one
thread or behind one lock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.dna.matching import (
    Rule,
    Stringency,
    best_match,
    check_min_loci,
    direct_targets,
)
from policenet.registers.dna.profile import (
    KNOWN_LOCI,
    MIN_LOCI,
    Category,
    DnaProfile,
    Genotype,
    natural_key,
)

_CATEGORIES: tuple[Category, ...] = tuple(Category)
_CATEGORY_IDS: dict[Category, int] = {c: i for i, c in enumerate(_CATEGORIES)}
_CATEGORY_BITS = 0x07
_MIXTURE = 0x08
_REMOVED = 0x80
assert len(_CATEGORIES) <= _CATEGORY_BITS + 1

# Fields of the per-row accumulator: five counts packed in a uint32. Six bits
# hold up to 63 compared loci; the allele-difference sum (at most 2 per
# locus) has the top eight bits.
_COMPARED, _NOT_IDENTICAL, _NOT_INCLUDED, _DISJOINT, _DIFFERENT = 0, 6, 12, 18, 24
_FIELD = 0x3F
assert len(KNOWN_LOCI) <= _FIELD
_EXCLUDED_BY: dict[Stringency, int] = {
    Stringency.HIGH: _NOT_IDENTICAL,
    Stringency.MODERATE: _NOT_INCLUDED,
    Stringency.LOW: _DISJOINT,
}
_RANKS: tuple[Rule, ...] = (Rule.FULL, Rule.NEAR, Rule.MODERATE, Rule.LOW)
_DROPPED = len(_RANKS)
_BULK_CHUNK = 65536
_MAX_ROWS = int(np.iinfo(np.uint32).max) - 1
_EMPTY_U32: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)

_U32 = npt.NDArray[np.uint32]
_Encoded = tuple[int, list[tuple[str, int]], bytes]  # category byte, (locus, code)s, reference


@dataclass(frozen=True, slots=True)
class DnaCandidate(Candidate):
    """A :class:`~policenet.registers.base.Candidate` with the DNA match's details.

    ``rule`` is the match rule, ``loci_compared`` the loci typed in both
    profiles, ``differing`` the compared loci whose alleles are not identical
    (for a near match, the one locus with the different allele).
    """

    rule: Rule
    loci_compared: tuple[str, ...]
    differing: tuple[str, ...]

    @property
    def loci_count(self) -> int:
        return len(self.loci_compared)


class _Column:
    """A growable one-dimensional numpy array whose integer type can be widened."""

    def __init__(self, dtype: Any, size: int = 0) -> None:
        self._data: npt.NDArray[Any] = np.zeros(max(16, size), dtype=dtype)
        self.size = size
        self._largest = int(np.iinfo(self._data.dtype).max)

    @property
    def view(self) -> npt.NDArray[Any]:
        return self._data[: self.size]

    def fit(self, largest: int) -> None:
        """Widen the type (uint8 -> uint16 -> uint32 -> int64) until it holds ``largest``."""
        while largest > self._largest:
            wider = {1: np.uint16, 2: np.uint32}.get(self._data.dtype.itemsize, np.int64)
            self._data = self._data.astype(wider)
            self._largest = int(np.iinfo(self._data.dtype).max)

    def extend(self, values: npt.NDArray[Any]) -> None:
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.zeros(max(needed, len(self._data) * 5 // 4 + 16), dtype=self._data.dtype)
            grown[: self.size] = self.view
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def replace(self, values: npt.NDArray[Any]) -> None:
        self._data = np.array(values, dtype=self._data.dtype)  # keeps the type (and _largest)
        self.size = len(values)

    def truncate(self, size: int) -> None:
        self.size = size

    def nbytes(self) -> int:
        return int(self._data.nbytes)


class _LocusTable:
    """The allele sets seen at one locus: id 0 is "not typed", ids 1.. are allele sets.

    Each set is also kept as a bitmask over the locus's alleles (one bit per
    allele ever seen, in 64-bit words), so that a probe's lookup table is a
    few numpy operations over the sets, however many there are.
    """

    def __init__(self) -> None:
        self.sets: list[Genotype] = [()]
        self.ids: dict[Genotype, int] = {(): 0}
        self.bits: dict[int, int] = {}
        self.masks: npt.NDArray[np.uint64] = np.zeros((16, 1), dtype=np.uint64)
        self.sizes: npt.NDArray[np.int64] = np.zeros(16, dtype=np.int64)
        self.counts: npt.NDArray[np.int64] = np.zeros(16, dtype=np.int64)
        """Live profiles holding each set (steers the order of loci in a search)."""

    def id_of(self, alleles: Genotype) -> int:
        found = self.ids.get(alleles)
        if found is not None:
            return found
        new = len(self.sets)
        if new == len(self.sizes):
            self.masks = np.concatenate([self.masks, np.zeros_like(self.masks)])
            self.sizes = np.concatenate([self.sizes, np.zeros_like(self.sizes)])
            self.counts = np.concatenate([self.counts, np.zeros_like(self.counts)])
        for allele in alleles:
            bit = self._bit(allele)
            self.masks[new, bit >> 6] |= np.uint64(1 << (bit & 63))
        self.sizes[new] = len(alleles)
        self.sets.append(alleles)
        self.ids[alleles] = new
        return new

    def _bit(self, allele: int) -> int:
        bit = self.bits.get(allele)
        if bit is None:
            bit = self.bits[allele] = len(self.bits)
            if bit >> 6 >= self.masks.shape[1]:
                self.masks = np.hstack([self.masks, np.zeros((len(self.masks), 1), np.uint64)])
        return bit

    def lookup(self, probe: Genotype, excluded_at: int, near: bool) -> tuple[_U32, float]:
        """Per allele set: the packed counts it adds against ``probe``; and how many live
        profiles the locus is expected to drop (those excluded at the stringency whose
        field is ``excluded_at``, and, with ``near``, more than one allele different)."""
        size = len(self.sets)
        wanted = np.zeros(self.masks.shape[1], dtype=np.uint64)
        for allele in probe:
            bit = self.bits.get(allele)
            if bit is not None:  # an allele no stored profile has is in no set
                wanted[bit >> 6] |= np.uint64(1 << (bit & 63))
        shared = np.bitwise_count(self.masks[:size] & wanted).sum(axis=1, dtype=np.int64)
        stored, asked = self.sizes[:size], len(probe)
        identical = (shared == stored) & (stored == asked)
        included = (shared == stored) | (shared == asked)
        # As allele pairs (.matching.allele_differences): 2 minus the alleles in common, 0
        # when identical (9,9 against 9,9 shares one distinct allele, yet differs in none);
        # 2 when either side has more than two alleles.
        differences = np.where((stored <= 2) & (asked <= 2), 2 - shared, 2)
        differences[identical] = 0
        values = (
            (1 << _COMPARED)
            + ((~identical).astype(np.int64) << _NOT_IDENTICAL)
            + ((~included).astype(np.int64) << _NOT_INCLUDED)
            + ((shared == 0).astype(np.int64) << _DISJOINT)
            + (differences << _DIFFERENT)
        ).astype(np.uint32)
        values[0] = 0
        dropped = ((values >> excluded_at) & _FIELD) != 0
        if near:
            dropped &= differences > 1
        dropped[0] = False
        return values, float(self.counts[:size][dropped].sum())


class DnaIndex:
    """The in-memory index of the DNA register (a :class:`~policenet.registers.base.RegisterIndex`).

    Keys are natural keys (:func:`.profile.natural_key`); :meth:`add` refuses
    a key that is not its profile's. Adding under a key that is present
    replaces the profile (a correction); adding a removed key brings it back.
    The index keeps the alleles, category and reference of each profile, not
    its amelogenin.
    """

    def __init__(self, *, merge_threshold: int = 65536) -> None:
        self._merge_threshold = max(1, merge_threshold)
        self._flags = _Column(np.uint8)
        self._chars = _Column(np.uint8)
        self._offsets = _Column(np.uint32, 1)
        self._codes: dict[str, _Column] = {}
        self._tables: dict[str, _LocusTable] = {}
        self._hashes: _U32 = _EMPTY_U32
        self._hash_rows: _U32 = _EMPTY_U32
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0
        self._live = 0
        self._dead = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._alive_row(key) is not None

    # -- writing ------------------------------------------------------------------

    def add(self, key: str, profile: DnaProfile) -> None:
        """Add ``profile`` under ``key`` (replacing what was there); InvalidField if ``key`` is
        not its natural key or a locus is unknown."""
        encoded = self._encode(key, profile)
        digest = _hash(key)
        row = self._find(key, digest)
        if row is not None:
            self._set_row(row, encoded[0], encoded[1])
            return
        row = self._append([encoded])
        self._pending.setdefault(digest, []).append(row)
        self._pending_count += 1
        if self._pending_count >= self._merge_threshold:
            self._merge_pending()

    def add_many(self, items: Iterable[tuple[str, DnaProfile]]) -> None:
        """Add many profiles (loading the register at start): the same result as :meth:`add`
        for each, in order (the last of one key wins), in bulk. If one item is refused,
        none of them is added."""
        self._merge_pending()
        first_row = self._flags.size
        first_live, first_dead = self._live, self._dead
        replaced: list[tuple[int, int, list[tuple[str, int]]]] = []
        digests: list[_U32] = []
        iterator = iter(items)
        try:
            while chunk := list(islice(iterator, _BULK_CHUNK)):
                encoded = [self._encode(key, profile) for key, profile in chunk]
                hashes = np.fromiter((_hash(key) for key, _ in chunk), np.uint32, len(chunk))
                fresh: list[int] = []
                for i, row in enumerate(self._find_many([key for key, _ in chunk], hashes)):
                    if row is None:
                        fresh.append(i)
                        continue
                    replaced.append((row, *self._row_state(row)))
                    self._set_row(row, encoded[i][0], encoded[i][1])
                if fresh:
                    self._append([encoded[i] for i in fresh])
                    digests.append(hashes[fresh])
        except BaseException:
            self._undo_bulk(first_row, replaced)
            self._live, self._dead = first_live, first_dead
            raise
        if not digests:
            return
        rows = np.arange(first_row, self._flags.size, dtype=np.uint32)
        hashes = np.concatenate([self._hashes, *digests])
        digests.clear()
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._hash_rows = np.concatenate([self._hash_rows, rows])[order]
        self._drop_duplicates(first_row)

    def remove(self, key: str) -> None:
        """Remove the profile under ``key``; an unknown or removed key does nothing."""
        row = self._alive_row(key)
        if row is None:
            return
        self._set_row(row, int(self._flags.view[row]) | _REMOVED, self._row_state(row)[1])
        if self._dead >= max(self._merge_threshold, self._live // 4):
            self.compact()

    def compact(self) -> None:
        """Merge pending adds and drop removed rows, renumbering the rest."""
        self._merge_pending()
        alive = (self._flags.view & _REMOVED) == 0
        if alive.all():
            return
        new_ids = np.cumsum(alive, dtype=np.int64) - 1
        keep = alive[self._hash_rows]
        self._hashes = self._hashes[keep]
        self._hash_rows = new_ids[self._hash_rows[keep]].astype(np.uint32)
        offsets = self._offsets.view.astype(np.int64)
        lengths = np.diff(offsets)
        self._chars.replace(self._chars.view[np.repeat(alive, lengths)])
        self._offsets.replace(np.concatenate([[0], np.cumsum(lengths[alive])]))
        for column in (self._flags, *self._codes.values()):
            column.replace(column.view[alive])
        self._dead = 0

    # -- reading ------------------------------------------------------------------

    def get(self, key: str) -> DnaProfile | None:
        """The profile under ``key`` as the index holds it (no amelogenin), or None."""
        row = self._alive_row(key)
        return None if row is None else self._decode(row)

    def keys(self) -> list[str]:
        """The keys of the live profiles, in the order :meth:`shared_loci_counts` uses."""
        return [self._key(int(row)) for row in np.flatnonzero(self._alive_mask())]

    def shared_loci_counts(self, probe: DnaProfile) -> npt.NDArray[np.uint8]:
        """For every live profile, in :meth:`keys` order, how many loci it and ``probe`` both
        have typed (the loci a match would compare), whatever their categories."""
        counts = np.zeros(self._flags.size, dtype=np.uint8)
        for locus, alleles in probe.loci.items():
            column = self._codes.get(locus)
            if column is not None and alleles:
                counts += column.view != 0
        return counts[self._alive_mask()]

    def search(
        self,
        probe: DnaProfile,
        limit: int = 10,
        *,
        stringency: Stringency = Stringency.MODERATE,
        min_loci: int = MIN_LOCI,
        near: bool = True,
        categories: Collection[Category] | None = None,
    ) -> list[Candidate]:
        """Candidates for ``probe``, best first, at most ``limit`` (see the module docstring);
        each is a :class:`DnaCandidate`."""
        return list(
            self.matches(
                probe,
                limit,
                stringency=stringency,
                min_loci=min_loci,
                near=near,
                categories=categories,
            )
        )

    def search_many(
        self,
        probes: Sequence[DnaProfile],
        limit: int = 10,
        *,
        stringency: Stringency = Stringency.MODERATE,
        min_loci: int = MIN_LOCI,
        near: bool = True,
        categories: Collection[Category] | None = None,
    ) -> list[list[DnaCandidate]]:
        """:meth:`matches` for each probe; the answers are in the probes' order."""
        return [
            self.matches(
                p, limit, stringency=stringency, min_loci=min_loci, near=near, categories=categories
            )
            for p in probes
        ]

    def matches(
        self,
        probe: DnaProfile,
        limit: int = 10,
        *,
        stringency: Stringency = Stringency.MODERATE,
        min_loci: int = MIN_LOCI,
        near: bool = True,
        categories: Collection[Category] | None = None,
    ) -> list[DnaCandidate]:
        """:meth:`search`, typed: the candidates as :class:`DnaCandidate`.

        ``stringency`` sets which rules beyond full (and near, if ``near``)
        may match; ``min_loci`` (>= 1, else InvalidField) the compared loci
        a match needs; ``categories`` replaces the categories the probe's own
        category is searched against.
        """
        check_min_loci(min_loci)
        stringency = Stringency(stringency)
        if limit < 1 or self._live == 0:
            return []
        targets = direct_targets(probe.category) if categories is None else categories
        allowed = np.zeros(256, dtype=np.bool_)
        for category in targets:
            try:
                code = _CATEGORY_IDS[Category(category)]
            except ValueError:
                raise InvalidField("categories", f"{category!r} is not a category") from None
            allowed[[code, code | _MIXTURE]] = True
        probe = _tidy(probe)
        near = near and probe.single_source
        rows, counts = self._screen(probe, allowed, stringency, min_loci, near)
        if len(rows) == 0:
            return []
        own = self._alive_row(natural_key(probe))
        ranks = self._ranks(rows, counts, stringency, min_loci, near, own)
        kept = np.flatnonzero(ranks < _DROPPED)
        compared = (counts[kept] & _FIELD).astype(np.int64)
        order = np.lexsort((rows[kept], -compared, ranks[kept]))[:limit]
        found: list[DnaCandidate] = []
        chosen = kept[order]
        for row, rank in zip(rows[chosen].tolist(), ranks[chosen].tolist(), strict=True):
            record = self._decode(row)
            result = best_match(probe, record, stringency, min_loci, near=near)
            # The screen's counts follow the same rules; a disagreement is a bug to hear of.
            assert result is not None and result.rule is _RANKS[rank], (row, rank, result)
            strength = MatchStrength.EXACT if result.rule is Rule.FULL else MatchStrength.POSSIBLE
            found.append(
                DnaCandidate(
                    natural_key(record),
                    result.score,
                    strength,
                    result.explanation,
                    result.rule,
                    result.loci_compared,
                    result.differing,
                )
            )
        found.sort(key=lambda c: (_RANKS.index(c.rule), -c.loci_count, c.key))
        return found

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (capacity, not only the used part)."""
        return sum(self.memory_breakdown().values())

    def memory_breakdown(self) -> dict[str, int]:
        """:meth:`memory_bytes` by part: ``alleles`` (the per-locus columns), ``flags``
        (category, mixture, removed), ``references`` (key text and offsets), ``key_lookup``
        (sorted hashes and row ids) and ``tables`` (the allele sets of each locus, their
        numpy arrays only: the Python tuples naming them, a few thousand, are not counted)."""
        tables = sum(
            t.masks.nbytes + t.sizes.nbytes + t.counts.nbytes for t in self._tables.values()
        )
        return {
            "alleles": sum(c.nbytes() for c in self._codes.values()),
            "flags": self._flags.nbytes(),
            "references": self._chars.nbytes() + self._offsets.nbytes(),
            "key_lookup": int(self._hashes.nbytes + self._hash_rows.nbytes),
            "tables": tables,
        }

    # -- searching internals --------------------------------------------------------

    def _screen(
        self,
        probe: DnaProfile,
        allowed: npt.NDArray[np.bool_],
        stringency: Stringency,
        min_loci: int,
        near: bool,
    ) -> tuple[npt.NDArray[np.intp], _U32]:
        """Rows still matching after every probe locus, with their packed counts."""
        excluded_at = _EXCLUDED_BY[stringency]
        plans: list[tuple[float, str, _U32]] = []
        for locus, alleles in probe.loci.items():
            table = self._tables.get(locus)
            if table is not None and alleles:
                values, dropped = table.lookup(alleles, excluded_at, near)
                plans.append((dropped, locus, values))
        empty = (np.zeros(0, dtype=np.intp), _EMPTY_U32)
        if len(plans) < min_loci:
            return empty
        plans.sort(key=lambda plan: -plan[0])
        field = np.uint32(_FIELD << excluded_at)

        def running(counts: _U32) -> npt.NDArray[np.bool_]:
            ok: npt.NDArray[np.bool_] = (counts & field) == 0
            if near:
                ok |= (counts >> np.uint32(_DIFFERENT)) <= 1
            return ok

        _, locus, values = plans[0]
        counts = values.take(self._codes[locus].view)
        rows = np.flatnonzero(running(counts) & allowed.take(self._flags.view))
        counts = counts[rows]
        for _, locus, values in plans[1:]:
            if len(rows) == 0:
                return empty
            counts += values.take(self._codes[locus].view.take(rows))
            ok = running(counts)
            if not ok.all():
                rows, counts = rows[ok], counts[ok]
        return rows, counts

    def _ranks(
        self,
        rows: npt.NDArray[np.intp],
        counts: _U32,
        stringency: Stringency,
        min_loci: int,
        near: bool,
        own: int | None,
    ) -> npt.NDArray[np.int64]:
        """Per surviving row, the index in :data:`_RANKS` of its rule, or :data:`_DROPPED`."""
        ranks = np.full(len(rows), _DROPPED, dtype=np.int64)

        def field(shift: int) -> npt.NDArray[np.uint32]:
            return (counts >> np.uint32(shift)) & np.uint32(_FIELD)

        if stringency is Stringency.LOW:
            ranks[field(_DISJOINT) == 0] = _RANKS.index(Rule.LOW)
        if stringency is not Stringency.HIGH:
            ranks[field(_NOT_INCLUDED) == 0] = _RANKS.index(Rule.MODERATE)
        if near:
            single = (self._flags.view.take(rows) & _MIXTURE) == 0
            ranks[((counts >> np.uint32(_DIFFERENT)) == 1) & single] = _RANKS.index(Rule.NEAR)
        ranks[field(_NOT_IDENTICAL) == 0] = _RANKS.index(Rule.FULL)
        ranks[field(_COMPARED) < min_loci] = _DROPPED
        if own is not None:
            ranks[rows == own] = _DROPPED
        return ranks

    # -- storage internals ----------------------------------------------------------

    def _encode(self, key: str, profile: DnaProfile) -> _Encoded:
        expected = natural_key(profile)
        if key != expected:
            raise InvalidField("key", f"{key!r} is not the natural key {expected!r} of the profile")
        codes: list[tuple[str, int]] = []
        for locus, alleles in profile.loci.items():
            table = self._tables.get(locus)
            if table is None:
                if locus not in KNOWN_LOCI:
                    raise InvalidField(locus, "unknown locus")
                table = self._tables[locus] = _LocusTable()
                self._codes[locus] = _Column(np.uint8, self._flags.size)
            if not alleles:
                continue
            code = table.ids.get(alleles)  # the common case: a set already seen, as stored
            if code is None:
                code = table.id_of(tuple(sorted(set(alleles))))
                self._codes[locus].fit(code)
            codes.append((locus, code))
        flags = _CATEGORY_IDS[profile.category] | (_MIXTURE if profile.mixture else 0)
        return flags, codes, profile.reference.encode("utf-8")

    def _append(self, encoded: list[_Encoded]) -> int:
        """Append rows (live); return the id of the first."""
        first, count = self._flags.size, len(encoded)
        if first + count > _MAX_ROWS:
            raise InvalidField("profiles", f"the index holds at most {_MAX_ROWS} rows")
        self._flags.extend(np.fromiter((e[0] for e in encoded), np.uint8, count))
        lengths = np.fromiter((len(e[2]) for e in encoded), np.int64, count)
        ends = int(self._offsets.view[-1]) + np.cumsum(lengths)
        self._offsets.fit(int(ends[-1]))
        self._offsets.extend(ends)
        self._chars.extend(np.frombuffer(b"".join(e[2] for e in encoded), dtype=np.uint8))
        blocks = {locus: [0] * count for locus in self._codes}
        for i, (_, codes, _) in enumerate(encoded):
            for locus, code in codes:
                blocks[locus][i] = code
        for locus, column in self._codes.items():
            block = np.array(blocks.pop(locus), dtype=column.view.dtype)
            table = self._tables[locus]
            typed = np.bincount(block, minlength=len(table.counts))[: len(table.counts)]
            typed[0] = 0
            table.counts += typed
            column.extend(block)
        self._live += count
        return first

    def _row_state(self, row: int) -> tuple[int, list[tuple[str, int]]]:
        codes = [(locus, int(c.view[row])) for locus, c in self._codes.items() if c.view[row]]
        return int(self._flags.view[row]), codes

    def _set_row(self, row: int, flags: int, codes: list[tuple[str, int]]) -> None:
        """Rewrite one row, keeping the live and dead counts and the set counts right."""
        was_alive = not self._flags.view[row] & _REMOVED
        now_alive = not flags & _REMOVED
        for locus, column in self._codes.items():
            old = int(column.view[row])
            if old and was_alive:
                self._tables[locus].counts[old] -= 1
            column.view[row] = 0
        for locus, code in codes:
            self._codes[locus].view[row] = code
            if now_alive:
                self._tables[locus].counts[code] += 1
        self._flags.view[row] = flags
        if was_alive != now_alive:
            change = 1 if now_alive else -1
            self._live += change
            self._dead -= change

    def _undo_bulk(
        self, first_row: int, replaced: list[tuple[int, int, list[tuple[str, int]]]]
    ) -> None:
        for row, flags, codes in reversed(replaced):
            self._set_row(row, flags, codes)
        for locus, column in self._codes.items():
            table = self._tables[locus]
            added = column.view[first_row:].astype(np.int64)
            table.counts -= np.bincount(added, minlength=len(table.counts))[: len(table.counts)]
            table.counts[0] = 0
            column.truncate(first_row)
        self._chars.truncate(int(self._offsets.view[first_row]))
        self._offsets.truncate(first_row + 1)
        self._flags.truncate(first_row)

    def _decode(self, row: int) -> DnaProfile:
        flags = int(self._flags.view[row])
        loci = {
            locus: self._tables[locus].sets[int(self._codes[locus].view[row])]
            for locus in KNOWN_LOCI
            if locus in self._codes and self._codes[locus].view[row]
        }
        return DnaProfile(
            self._reference(row),
            _CATEGORIES[flags & _CATEGORY_BITS],
            loci,
            None,
            bool(flags & _MIXTURE),
        )

    def _reference(self, row: int) -> str:
        start, end = int(self._offsets.view[row]), int(self._offsets.view[row + 1])
        return self._chars.view[start:end].tobytes().decode("utf-8")

    def _key(self, row: int) -> str:
        category = _CATEGORIES[int(self._flags.view[row]) & _CATEGORY_BITS]
        return f"{category.value}:{self._reference(row)}"

    def _alive_mask(self) -> npt.NDArray[np.bool_]:
        alive: npt.NDArray[np.bool_] = (self._flags.view & _REMOVED) == 0
        return alive

    def _alive_row(self, key: str) -> int | None:
        row = self._find(key, _hash(key))
        if row is None or self._flags.view[row] & _REMOVED:
            return None
        return row

    def _find(self, key: str, digest: int) -> int | None:
        """The row holding ``key``, alive or not, or None."""
        start = int(np.searchsorted(self._hashes, digest, side="left"))
        end = int(np.searchsorted(self._hashes, digest, side="right"))
        for row in (*self._hash_rows[start:end].tolist(), *self._pending.get(digest, ())):
            if self._key(row) == key:
                return int(row)
        return None

    def _find_many(self, keys: Sequence[str], digests: _U32) -> list[int | None]:
        """:meth:`_find` for many keys; the pending dict must be empty."""
        found: list[int | None] = [None] * len(keys)
        if len(self._hashes) == 0:
            return found
        starts = np.searchsorted(self._hashes, digests, side="left")
        hit = self._hashes[np.minimum(starts, len(self._hashes) - 1)] == digests
        for i in np.flatnonzero(hit).tolist():
            found[i] = self._find(keys[i], int(digests[i]))
        return found

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        pairs = sorted((digest, row) for digest, rows in self._pending.items() for row in rows)
        hashes = np.array([digest for digest, _ in pairs], dtype=np.uint32)
        rows = np.array([row for _, row in pairs], dtype=np.uint32)
        at = np.searchsorted(self._hashes, hashes, side="right")
        self._hashes = np.insert(self._hashes, at, hashes)
        self._hash_rows = np.insert(self._hash_rows, at, rows)
        self._pending.clear()
        self._pending_count = 0

    def _drop_duplicates(self, first_new: int) -> None:
        """After a bulk load: of the rows added under one key, keep the last (the last add
        wins). Keys present before the load were rewritten in place, so only new rows can
        share a key, and only runs of equal hashes holding two new rows are looked at."""
        hashes, rows = self._hashes, self._hash_rows
        same = np.flatnonzero(hashes[1:] == hashes[:-1])
        if not len(same):
            return
        both_new = (rows[same] >= first_new) & (rows[same + 1] >= first_new)
        drop: list[int] = []
        for digest in np.unique(hashes[same[both_new]]).tolist():
            start = int(np.searchsorted(hashes, digest, side="left"))
            end = int(np.searchsorted(hashes, digest, side="right"))
            latest: dict[str, int] = {}  # key -> position of its newest row
            for position in sorted(range(start, end), key=lambda at: int(rows[at])):
                row = int(rows[position])
                if row < first_new:
                    continue
                key = self._key(row)
                older = latest.get(key)
                if older is not None:
                    drop.append(older)
                    stale = int(rows[older])
                    self._set_row(stale, int(self._flags.view[stale]) | _REMOVED, [])
                latest[key] = position
        if drop:
            keep = np.ones(len(hashes), dtype=np.bool_)
            keep[drop] = False
            self._hashes, self._hash_rows = hashes[keep], rows[keep]


def _hash(key: str) -> int:
    """A 32-bit hash of ``key``, keyed per process (Python's string hash), so nobody can
    choose keys that collide; the index is rebuilt at start, so it never leaves the process."""
    return hash(key) & 0xFFFFFFFF


def _tidy(profile: DnaProfile) -> DnaProfile:
    """``profile`` with every locus as distinct ascending alleles, untyped loci dropped
    (profiles from :func:`.profile.validate` already are)."""
    tidy = {
        locus: tuple(sorted(set(alleles))) for locus, alleles in profile.loci.items() if alleles
    }
    if tidy == dict(profile.loci):
        return profile
    return DnaProfile(
        profile.reference, profile.category, tidy, profile.amelogenin, profile.mixture
    )

"""Synthetic travel document records for benchmarks: realistic formats, deterministic, streamed.

What the records look like:

- issuing states weighted like a register fed by many members: a few large
  reporters (USA, GBR, D, FRA, ITA, ...) and a long tail. The weights are an
  invented approximation of the *shape* of reporting volumes, not official
  figures;
- document numbers in each state's own format (USA nine digits or a letter
  and eight digits, D nine characters from ``CFGHJKLMNPRTVWXYZ0-9``, FRA two
  digits, two letters, five digits, ITA two letters and seven digits, ESP
  three letters and six digits, CHN ``E`` and eight digits, IND a letter and
  seven digits, ...);
- types: mostly passports, then ID cards, a few residence permits and visas;
  statuses: mostly lost, then stolen from the holder, a few stolen blanks,
  revoked and invalidated documents; dates consistent with the status.

Determinism and streaming: records come in chunks of :data:`CHUNK_ROWS`
drawn from one seeded generator, so the same seed always gives the same
records, and the first N records of a larger run are the N records of a
smaller one. Nothing holds more than one chunk as Python objects.

Uniqueness without memory: the i-th number of a (state, format) stream is
``decode((a * i + b) mod S)``, an affine bijection of the format's S
possible numbers (``a`` coprime to S), so numbers never repeat within a
stream. Probes for numbers that are absent use indices ``i >= count`` of the
same bijection: realistic numbers that the stream never produced. (Another
state with the same format may still hold an "absent" number by chance; the
benchmarks count the actual hits on both sides.)
"""

from __future__ import annotations

import math
import string
import zlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from policenet.registers.documents.record import (
    ROW_FIELDS,
    DocumentStatus,
    DocumentType,
    TravelDocument,
)

CHUNK_ROWS = 100_000
AS_OF = date(2026, 1, 1)
"""Reported dates fall in the ten years before this day (fixed, for determinism)."""

CSV_COLUMNS = tuple(name for name in ROW_FIELDS if name != "remarks")
"""The CSV header: a record's row fields (:data:`ROW_FIELDS`) but the free-text remarks."""

_CLASSES = {
    "9": string.digits,
    "A": string.ascii_uppercase,
    "X": string.ascii_uppercase + string.digits,
    "G": "CFGHJKLMNPRTVWXYZ0123456789",  # German passports and ID cards
    "N": string.ascii_uppercase.replace("O", "") + string.digits,  # Dutch: no letter O
}

P, ID, RP, VISA = (
    DocumentType.PASSPORT,
    DocumentType.ID_CARD,
    DocumentType.RESIDENCE_PERMIT,
    DocumentType.VISA,
)

# state -> (relative weight, ((type, number pattern, share of the state's records), ...)).
# Pattern: 9 digit, A letter, X letter or digit, G German alphabet, N Dutch alphabet,
# [..] one of the characters listed.
COUNTRIES: dict[str, tuple[float, tuple[tuple[DocumentType, str, float], ...]]] = {
    "USA": (
        12.0,
        ((P, "999999999", 0.60), (P, "A99999999", 0.32), (ID, "[C]99999999", 0.06)),
    ),
    "GBR": (9.0, ((P, "999999999", 0.95), (RP, "[Z]A9999999", 0.05))),
    "D": (
        7.0,
        (
            (P, "[CFGHJK]GGGGGGGG", 0.55),
            (ID, "[LMNPRTVWX]GGGGGGGG", 0.42),
            (RP, "[Y]GGGGGGGG", 0.03),
        ),
    ),
    "FRA": (
        7.0,
        ((P, "99AA99999", 0.55), (ID, "999999999999", 0.35), (ID, "XXXXXXXXX", 0.10)),
    ),
    "ITA": (6.0, ((P, "AA9999999", 0.60), (ID, "[C]A99999AA", 0.40))),
    "ESP": (5.0, ((P, "AAA999999", 0.55), (ID, "AAA999999", 0.45))),
    "CHN": (5.0, ((P, "[E]99999999", 0.80), (P, "[E]A9999999", 0.20))),
    "IND": (4.0, ((P, "A9999999", 1.0),)),
    "RUS": (4.0, ((P, "999999999", 0.70), (ID, "9999999999", 0.30))),
    "TUR": (3.0, ((P, "[U]99999999", 0.80), (ID, "A99A99999", 0.20))),
    "BRA": (3.0, ((P, "AA999999", 1.0),)),
    "CAN": (3.0, ((P, "AA999999", 0.98), (VISA, "99999999", 0.02))),
    "UKR": (3.0, ((P, "AA999999", 0.65), (ID, "999999999", 0.35))),
    "POL": (2.5, ((P, "AA9999999", 0.50), (ID, "AAA999999", 0.50))),
    "NLD": (2.0, ((P, "AANNNNNN9", 0.50), (ID, "AANNNNNN9", 0.50))),
    "AUS": (2.0, ((P, "A9999999", 0.70), (P, "AA9999999", 0.30))),
    "MEX": (2.0, ((P, "[G]99999999", 1.0),)),
    "NGA": (2.0, ((P, "[AB]99999999", 1.0),)),
    "PHL": (2.0, ((P, "[P]9999999A", 1.0),)),
    "ZAF": (1.5, ((P, "[AMT]99999999", 1.0),)),
    "BEL": (1.5, ((P, "AA999999", 0.50), (ID, "999999999999", 0.50))),
    "SWE": (1.5, ((P, "99999999", 0.60), (ID, "99999999", 0.40))),
    "ROU": (1.5, ((P, "999999999", 0.50), (ID, "AA999999", 0.50))),
}
_TAIL_STATES = (
    *("ARG", "COL", "CHL", "PER", "VEN", "EGY", "MAR", "DZA", "KEN", "GHA", "PAK", "BGD"),
    *("IDN", "VNM", "THA", "MYS", "JPN", "KOR", "IRN", "IRQ", "SAU", "ISR", "GRC", "PRT"),
    *("CZE", "HUN", "AUT", "CHE"),
)
_TAIL_PATTERNS = ("AA9999999", "A9999999", "99999999", "AA999999", "A99999999", "AAA999999")
for _n, _state in enumerate(_TAIL_STATES):
    COUNTRIES[_state] = (0.45, ((P, _TAIL_PATTERNS[_n % len(_TAIL_PATTERNS)], 1.0),))

STATUSES: tuple[tuple[DocumentStatus, float], ...] = (
    (DocumentStatus.LOST, 0.55),
    (DocumentStatus.STOLEN_FROM_HOLDER, 0.30),
    (DocumentStatus.STOLEN_BLANK, 0.03),
    (DocumentStatus.REVOKED, 0.07),
    (DocumentStatus.INVALIDATED, 0.05),
)
_VALIDITY_DAYS = {P: 3652, ID: 3652, RP: 1826, VISA: 730, DocumentType.OTHER: 1826}
_TYPE_IDS = {kind: i for i, kind in enumerate(DocumentType)}


def parse_pattern(pattern: str) -> list[str]:
    """The alphabet of each position of a number ``pattern`` (see :data:`COUNTRIES`)."""
    alphabets: list[str] = []
    at = 0
    while at < len(pattern):
        if pattern[at] == "[":
            end = pattern.index("]", at)
            alphabets.append(pattern[at + 1 : end])
            at = end + 1
        else:
            alphabets.append(_CLASSES[pattern[at]])
            at += 1
    return alphabets


@dataclass
class NumberStream:
    """The numbers of one (state, pattern): ``count`` issued so far, an affine bijection of S."""

    state: str
    pattern: str
    alphabets: list[str]
    space: int
    a: int
    b: int
    count: int = 0

    @classmethod
    def create(cls, seed: int, state: str, pattern: str) -> NumberStream:
        alphabets = parse_pattern(pattern)
        space = math.prod(len(x) for x in alphabets)
        rng = np.random.default_rng([seed, zlib.crc32(f"{state}/{pattern}".encode())])
        a = int(rng.integers(space // 3, space))
        while math.gcd(a, space) != 1:
            a += 1
        return cls(state, pattern, alphabets, space, a % space, int(rng.integers(0, space)))

    def numbers(self, indices: Collection[int]) -> list[str]:
        """The numbers at ``indices`` of this stream (each index below :attr:`space`)."""
        a, b, space = self.a, self.b, self.space
        x = np.fromiter(((a * i + b) % space for i in indices), dtype=np.int64, count=len(indices))
        chars = np.empty((len(indices), len(self.alphabets)), dtype=np.uint8)
        for position in range(len(self.alphabets) - 1, -1, -1):
            alphabet = np.frombuffer(self.alphabets[position].encode("ascii"), dtype=np.uint8)
            chars[:, position] = alphabet[x % len(alphabet)]
            x //= len(alphabet)
        width = len(self.alphabets)
        return chars.view(f"S{width}").ravel().astype(f"U{width}").tolist()

    def take(self, how_many: int) -> list[str]:
        """The next ``how_many`` numbers; ValueError when the format has no more."""
        if self.count + how_many > self.space:
            raise ValueError(f"{self.state} {self.pattern}: only {self.space} numbers exist")
        numbers = self.numbers(range(self.count, self.count + how_many))
        self.count += how_many
        return numbers


@dataclass(frozen=True)
class DocumentChunk:
    """Up to :data:`CHUNK_ROWS` records as parallel columns of strings (dates ISO or "")."""

    states: list[str]
    types: list[str]
    numbers: list[str]
    statuses: list[str]
    issue_dates: list[str]
    expiry_dates: list[str]
    reported_dates: list[str]
    references: list[str]

    def __len__(self) -> int:
        return len(self.numbers)

    def keys(self) -> list[str]:
        """Natural keys ``STATE:type:NUMBER`` (the numbers are already normalised)."""
        return [
            f"{s}:{t}:{n}" for s, t, n in zip(self.states, self.types, self.numbers, strict=True)
        ]

    def csv_text(self) -> str:
        """The rows as CSV lines in :data:`CSV_COLUMNS` order (no field needs quoting)."""
        rows = zip(
            self.states,
            self.types,
            self.numbers,
            self.statuses,
            self.issue_dates,
            self.expiry_dates,
            self.reported_dates,
            self.references,
            strict=True,
        )
        return "".join(",".join(row) + "\n" for row in rows)

    def documents(self) -> Iterator[TravelDocument]:
        def day(text: str) -> date | None:
            return date.fromisoformat(text) if text else None

        for i in range(len(self)):
            yield TravelDocument(
                issuing_state=self.states[i],
                document_type=DocumentType(self.types[i]),
                number=self.numbers[i],
                status=DocumentStatus(self.statuses[i]),
                issue_date=day(self.issue_dates[i]),
                expiry_date=day(self.expiry_dates[i]),
                reported_date=day(self.reported_dates[i]),
                reference=self.references[i],
            )


class SyntheticRegister:
    """A deterministic source of synthetic records (and of probes for what it produced).

    ``states`` keeps only those issuing states (their weights renormalised);
    None keeps every state of :data:`COUNTRIES`.
    """

    def __init__(self, seed: int, states: Collection[str] | None = None) -> None:
        self.seed = seed
        kept = [s for s in COUNTRIES if states is None or s in states]
        if not kept:
            raise ValueError(f"none of {sorted(states or ())} is a synthetic state")
        self._choices: list[tuple[str, DocumentType, NumberStream]] = []
        weights: list[float] = []
        streams: dict[tuple[str, str], NumberStream] = {}
        for state in kept:
            weight, kinds = COUNTRIES[state]
            for kind, pattern, share in kinds:
                if (state, pattern) not in streams:
                    streams[state, pattern] = NumberStream.create(seed, state, pattern)
                self._choices.append((state, kind, streams[state, pattern]))
                weights.append(weight * share)
        self.streams = list(streams.values())
        self._weights = np.array(weights) / sum(weights)
        self._rng = np.random.default_rng(seed)
        self.produced = 0

    def chunks(
        self, total: int, progress: Callable[[int], None] | None = None
    ) -> Iterator[DocumentChunk]:
        """``total`` more records, in chunks; ``progress(records so far)`` after each chunk."""
        left = total
        while left > 0:
            chunk = self._chunk(min(left, CHUNK_ROWS))
            left -= len(chunk)
            self.produced += len(chunk)
            if progress is not None:
                progress(self.produced)
            yield chunk

    def _chunk(self, size: int) -> DocumentChunk:
        """The next ``size`` records. Every draw is made for a whole chunk and then cut,
        so a run's first N records do not depend on how many records it makes."""
        rng, n = self._rng, CHUNK_ROWS
        picks = rng.choice(len(self._choices), size=n, p=self._weights)[:size]
        status_weights = np.array([w for _, w in STATUSES])
        status_ids = rng.choice(len(STATUSES), size=n, p=status_weights / status_weights.sum())
        status_ids = status_ids[:size]
        ago = rng.integers(1, 3650, size=n)[:size].astype("timedelta64[D]")
        age = rng.integers(30, 3650, size=n)[:size].astype("timedelta64[D]")
        reported = np.datetime64(AS_OF) - ago
        issued = reported - age
        numbers: list[str] = [""] * size
        states: list[str] = [""] * size
        types: list[str] = [""] * size
        kinds = np.array([_TYPE_IDS[kind] for _, kind, _ in self._choices])[picks]
        validity = np.array([_VALIDITY_DAYS[kind] for kind in DocumentType])[kinds]
        stream_of = np.array([self.streams.index(s) for _, _, s in self._choices])[picks]
        for stream_id in np.unique(stream_of).tolist():
            # rows take a stream's numbers in row order, whatever their type
            rows = np.flatnonzero(stream_of == stream_id).tolist()
            stream = self.streams[stream_id]
            for row, number in zip(rows, stream.take(len(rows)), strict=True):
                state, kind, _ = self._choices[picks[row]]
                numbers[row], states[row], types[row] = number, state, kind.value
        blank = status_ids == [s for s, _ in STATUSES].index(DocumentStatus.STOLEN_BLANK)
        issue_text = np.where(blank, "", np.datetime_as_string(issued)).tolist()
        expiry_text = np.where(
            blank, "", np.datetime_as_string(issued + validity.astype("timedelta64[D]"))
        ).tolist()
        start = self.produced
        return DocumentChunk(
            states=states,
            types=types,
            numbers=numbers,
            statuses=[STATUSES[i][0].value for i in status_ids.tolist()],
            issue_dates=issue_text,
            expiry_dates=expiry_text,
            reported_dates=np.datetime_as_string(reported).tolist(),
            references=[f"{s}-{start + i:010d}" for i, s in enumerate(states)],
        )

    def probes(self, count: int, present_fraction: float, seed: int) -> list[tuple[str, str, bool]]:
        """``count`` probes ``(issuing_state, number, produced)`` in random order.

        ``round(count * present_fraction)`` are numbers this register produced
        (``produced`` True), chosen uniformly over the records; the rest are
        numbers of the same states and formats that it never produced.
        """
        rng = np.random.default_rng([seed, 7])
        present = round(count * present_fraction)
        live = [s for s in self.streams if s.count]
        weights = np.array([s.count for s in live], dtype=np.float64)
        picks = rng.choice(len(live), size=count, p=weights / weights.sum())
        produced = np.arange(count) < present
        states: list[str] = [""] * count
        numbers: list[str] = [""] * count
        for choice in np.unique(picks).tolist():
            stream = live[choice]
            for was_produced in (True, False):
                rows = np.flatnonzero((picks == choice) & (produced == was_produced))
                low, high = (0, stream.count) if was_produced else (stream.count, stream.space)
                indices = rng.integers(low, high, size=len(rows)).tolist()
                for row, number in zip(rows.tolist(), stream.numbers(indices), strict=True):
                    states[row], numbers[row] = stream.state, number
        order = rng.permutation(count).tolist()
        flags = produced.tolist()
        return [(states[i], numbers[i], flags[i]) for i in order]


def write_files(
    register: SyntheticRegister,
    total: int,
    csv_path: Path,
    keys_path: Path,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write ``total`` records as CSV (with header) and their natural keys, one a line."""
    with (
        csv_path.open("w", encoding="ascii", newline="") as csv_file,
        keys_path.open("w", encoding="ascii") as keys_file,
    ):
        csv_file.write(",".join(CSV_COLUMNS) + "\n")
        for chunk in register.chunks(total, progress):
            csv_file.write(chunk.csv_text())
            keys_file.write("\n".join(chunk.keys()) + "\n")

"""A register's in-memory index kept in step with the store, the same way for every register.

At start the hub builds each index from the stored records (:meth:`LiveIndex.load`);
before every search it applies the store's change feed since the last
refresh (:meth:`LiveIndex.refresh`), so a record reported through any hub
process is found by the next search. A lock makes the index safe to share
between the server's threads.

:class:`PayloadIndex` serves registers whose index needs each record
(DNA profiles, persons); the travel documents index needs only keys and
subclasses :class:`LiveIndex` itself.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from policenet.domain.registers import RegisterName
from policenet.store.ports import RecordChange, Store, UnitOfWork

RecordT = TypeVar("RecordT")
RecordT_contra = TypeVar("RecordT_contra", contravariant=True)

CHANGES_PAGE = 10_000


class LiveIndex(abc.ABC):
    """An index of ``register`` over the store (see the module docstring)."""

    register: RegisterName
    load_page = 20_000

    def __init__(self) -> None:
        self._seq = 0
        self._lock = threading.Lock()

    @abc.abstractmethod
    def _load_pages(self, pages: Iterator[tuple[UnitOfWork, list[str]]]) -> None:
        """Add every page of stored keys of the first load (with the reading each came from)."""

    @abc.abstractmethod
    def _apply(self, uow: UnitOfWork, changes: Sequence[RecordChange]) -> None:
        """Apply one page of the change feed."""

    def load(self, store: Store) -> int:
        """Build the index from the store (at start); returns how many records it holds."""
        with self._lock:
            with store.reading() as view:
                self._seq = view.records.last_change(self.register.value)
            self._load_pages(self._pages(store))
        with store.reading() as view:
            self.refresh(view)
        return len(self)

    def _pages(self, store: Store) -> Iterator[tuple[UnitOfWork, list[str]]]:
        """The stored keys in pages of ``load_page``, each with the reading it came from."""
        after = ""
        while True:
            with store.reading() as view:
                keys = view.records.keys(self.register.value, after, self.load_page)
                if not keys:
                    return
                yield view, keys
            after = keys[-1]

    def refresh(self, uow: UnitOfWork) -> None:
        """Apply the change feed since the last refresh to the index."""
        with self._lock:
            while changes := uow.records.changes(self.register.value, self._seq, CHANGES_PAGE):
                self._apply(uow, changes)
                self._seq = changes[-1].seq

    @abc.abstractmethod
    def __len__(self) -> int: ...


class RecordIndex(Protocol[RecordT_contra]):
    """What :class:`PayloadIndex` needs of a register's index."""

    def add(self, key: str, record: RecordT_contra) -> None: ...
    def add_many(self, records: Iterable[tuple[str, RecordT_contra]]) -> None: ...
    def remove(self, key: str) -> None: ...
    def __len__(self) -> int: ...


class PayloadIndex(LiveIndex, Generic[RecordT]):
    """A :class:`LiveIndex` whose index holds each record, read back from its stored payload."""

    def __init__(
        self, index: RecordIndex[RecordT], decode: Callable[[Mapping[str, Any]], RecordT]
    ) -> None:
        """``decode`` reads a record back from its stored payload (the register's codec)."""
        super().__init__()
        self._records = index
        self.decode = decode

    def __len__(self) -> int:
        return len(self._records)

    def _load_pages(self, pages: Iterator[tuple[UnitOfWork, list[str]]]) -> None:
        for view, keys in pages:  # each page's records read and decoded, then added
            stored = view.records.get_many(self.register.value, keys)
            self._records.add_many((k, self.decode(stored[k].payload)) for k in keys if k in stored)

    def _apply(self, uow: UnitOfWork, changes: Sequence[RecordChange]) -> None:
        current = uow.records.get_many(
            self.register.value, [c.key for c in changes if not c.removed]
        )
        for change in changes:
            stored = current.get(change.key)
            if change.removed or stored is None:
                self._records.remove(change.key)
            else:
                self._records.add(change.key, self.decode(stored.payload))

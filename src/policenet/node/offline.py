"""The node's offline copy of the travel documents register.

A border post must answer when the link to the hub is down. The node keeps
a read-only copy of the documents its member may see (what the hub's
access decision allows, nothing more), refreshed from signed snapshot and
delta pages (:mod:`policenet.hub.documents_copy`). The hub's signing key is
pinned at the first sync: a page signed by any other key is refused, and so
is a later change of key (the operator clears the copy to accept a new one).

When the hub cannot be reached, checks are answered from the copy; every
answer says so and how old the copy is. A check that hit in the copy is
kept and repeated with the hub once it is back, so the hub audits it and the
NCBs are told, as for any hit.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.concurrency import run_in_threadpool

from policenet.domain.access import Access
from policenet.domain.registers import RegisterName
from policenet.errors import IntegrityFailure, PolicenetError, Unavailable
from policenet.node.hubclient import HubClient
from policenet.registers.base import MatchStrength
from policenet.registers.documents.index import DocumentIndex, DocumentProbe
from policenet.registers.hits import Hit
from policenet.security.signed import verify
from policenet.store.ports import CopyState, Store

log = logging.getLogger("policenet.node")

REGISTER = RegisterName.DOCUMENTS
COPY_LABEL = "policenet-documents-copy-v1"
"""Must equal the hub's label (policenet.hub.documents_copy.COPY_LABEL); a test keeps them equal."""


class OfflineCopy:
    """Keeps the copy in the node's store and an index over it in memory."""

    def __init__(
        self,
        store: Store,
        hub: HubClient,
        clock: Callable[[], datetime],
        *,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock
        self._refresh = refresh_seconds
        self._index = DocumentIndex()
        self._lock = threading.Lock()
        self.last_error: str | None = None

    # --- state -------------------------------------------------------------------------

    def _state(self) -> CopyState | None:
        with self._store.reading() as uow:
            return uow.copies.state(REGISTER.value)

    def synced_at(self) -> datetime | None:
        state = self._state()
        return state.synced_at if state and state.snapshot_done else None

    def status(self) -> dict[str, Any]:
        synced = self.synced_at()
        with self._store.reading() as uow:
            pending = len(uow.rechecks.pending(REGISTER.value, 10_000))
        return {
            "pending_rechecks": pending,
            "ready": synced is not None,
            "records": len(self._index),
            "synced_at": synced.isoformat() if synced else None,
            "age_seconds": None
            if synced is None
            else round((self._clock() - synced).total_seconds()),
            "last_error": self.last_error,
        }

    def load(self) -> int:
        """Build the in-memory index from the stored copy (at start)."""
        after = ""
        with self._lock:
            self._index = DocumentIndex()
            while True:
                with self._store.unit_of_work() as uow:
                    keys = uow.copies.keys(REGISTER.value, after, 50_000)
                if not keys:
                    break
                self._index.add_keys(keys)
                after = keys[-1]
            return len(self._index)

    # --- syncing -------------------------------------------------------------------------

    async def _hub_key(self, state: CopyState | None) -> tuple[str, Ed25519PublicKey]:
        answer = await self._hub.get("/v1/audit/public-key")
        key_text = str(answer["key"])
        if state is not None and state.hub_key and state.hub_key != key_text:
            raise IntegrityFailure(
                "the hub's signing key differs from the one this copy was verified with; "
                "an operator must clear the copy (policenet node copy clear) to accept it"
            )
        return key_text, Ed25519PublicKey.from_public_bytes(base64.b64decode(key_text))

    @staticmethod
    def _checked(page: Mapping[str, Any], key: Ed25519PublicKey, member: str | None) -> Any:
        body, signature = page.get("body"), page.get("signature")
        if not isinstance(body, dict) or not isinstance(signature, str):
            raise IntegrityFailure("the hub's copy page is malformed")
        if not verify(key, COPY_LABEL, body, signature):
            raise IntegrityFailure("a copy page from the hub does not carry the hub's signature")
        if member is not None and body.get("member") != member:
            raise IntegrityFailure(f"a copy page for {body.get('member')} was sent to {member}")
        return body

    async def sync_once(self, member: str | None = None) -> None:
        """Bring the copy up to date (snapshot first if needed, then deltas)."""
        state = await run_in_threadpool(self._state)
        key_text, key = await self._hub_key(state)
        if state is None or not state.snapshot_done:
            state = await self._snapshot(state, key_text, key, member)
        while True:
            page = await self._hub.get("/v1/documents/copy/delta", params={"after": state.position})
            body = self._checked(page, key, member)
            state = await run_in_threadpool(self._apply_delta, state, body)
            if body["complete"]:
                break
        self.last_error = None

    async def _snapshot(
        self, state: CopyState | None, key_text: str, key: Ed25519PublicKey, member: str | None
    ) -> CopyState:
        if state is None:
            await run_in_threadpool(self._clear_store)
        after = state.snapshot_key if state else ""
        as_of = state.position if state and state.snapshot_key else None
        while True:
            params: dict[str, Any] = {"after_key": after}
            if as_of is not None:
                params["as_of"] = as_of
            body = self._checked(
                await self._hub.get("/v1/documents/copy/snapshot", params=params), key, member
            )
            as_of = int(body["as_of"])
            done = body["next_key"] is None
            state = CopyState(
                position=as_of,
                synced_at=self._clock() if done else None,
                hub_key=key_text,
                snapshot_done=done,
                snapshot_key="" if done else str(body["next_key"]),
            )
            await run_in_threadpool(self._store_page, body["records"], [], state)
            if done:
                return state
            after = str(body["next_key"])

    def _clear_store(self) -> None:
        with self._store.unit_of_work() as uow:
            uow.copies.clear(REGISTER.value)
        with self._lock:
            self._index = DocumentIndex()

    def _apply_delta(self, state: CopyState, body: Mapping[str, Any]) -> CopyState:
        new_state = CopyState(
            position=int(body["to"]),
            synced_at=self._clock(),
            hub_key=state.hub_key,
            snapshot_done=True,
        )
        self._store_page(body["records"], body["removed"], new_state)
        return new_state

    def _store_page(
        self, records: Sequence[Mapping[str, Any]], removed: Sequence[str], state: CopyState
    ) -> None:
        with self._store.unit_of_work() as uow:
            gone: list[str] = []
            if removed:
                # the hub names removed records by the hash of their key
                gone = uow.copies.keys_hashed(REGISTER.value, list(removed))
                uow.copies.remove_hashed(REGISTER.value, list(removed))
            uow.copies.put(REGISTER.value, records)
            uow.copies.set_state(REGISTER.value, state)
        with self._lock:
            for k in gone:
                self._index.remove(k)
            self._index.add_keys([str(r["key"]) for r in records])

    async def run(self, member: str | None = None) -> None:
        """Sync every ``refresh_seconds`` and re-check offline hits once the hub answers."""
        while True:
            try:
                await self.sync_once(member)
                await self.recheck()
            except PolicenetError as exc:
                self.last_error = exc.message
            except Exception as exc:
                log.exception("offline copy sync failed")
                self.last_error = f"unexpected error: {type(exc).__name__}"
            await asyncio.sleep(self._refresh)

    # --- answering ----------------------------------------------------------------------

    def answer(
        self,
        probes: Sequence[DocumentProbe],
        items: Sequence[Mapping[str, Any]],
        officer: str | None,
        *,
        tolerant: bool = False,
    ) -> list[list[Hit]]:
        """Answer probes from the copy; probes that hit are kept for a re-check with the hub."""
        now = self._clock()
        with self._lock:
            found = self._index.search_many(probes)
        keys = sorted({c.key for candidates in found for c in candidates})
        with self._store.unit_of_work() as uow:
            entries = uow.copies.get_many(REGISTER.value, keys) if keys else {}
            answers: list[list[Hit]] = []
            for item, candidates in zip(items, found, strict=True):
                hits = []
                for c in candidates:
                    entry = entries.get(c.key)
                    if entry is None or (
                        entry.get("expires") and datetime.fromisoformat(entry["expires"]) <= now
                    ):
                        continue
                    hits.append(_hit(entry, c.strength, c.score, c.explanation))
                if hits:
                    uow.rechecks.add(
                        REGISTER.value, {"item": dict(item), "tolerant": tolerant}, officer, now
                    )
                answers.append(hits)
        return answers

    async def recheck(self) -> int:
        """Repeat offline hits with the hub (which audits them and tells the NCBs).

        A re-check the hub refuses (the member lost the register, say) is
        dropped with the reason logged, so it cannot hold up the others; an
        unreachable hub stops the round, to be tried again at the next sync.
        """
        done = 0
        while pending := await run_in_threadpool(self._pending):
            for recheck in pending:
                body = {
                    "documents": [dict(recheck.probe["item"])],
                    "tolerant": bool(recheck.probe.get("tolerant")),
                    "answered_offline_at": recheck.created.isoformat(),
                }
                try:
                    await self._hub.post("/v1/documents/check", body, officer=recheck.officer)
                except Unavailable:
                    raise
                except PolicenetError as exc:
                    log.warning("offline hit %d not re-checked: %s", recheck.id, exc.message)
                await run_in_threadpool(self._done, recheck.id)
                done += 1
        return done

    def _pending(self) -> list[Any]:
        with self._store.unit_of_work() as uow:
            return uow.rechecks.pending(REGISTER.value, 100)

    def _done(self, recheck_id: int) -> None:
        with self._store.unit_of_work() as uow:
            uow.rechecks.done([recheck_id])


def _hit(
    entry: Mapping[str, Any], strength: MatchStrength, score: float, explanation: tuple[str, ...]
) -> Hit:
    return Hit(
        register=REGISTER,
        key=str(entry["key"]),
        owner=str(entry["owner"]),
        owner_name=str(entry["owner_name"]),
        owner_country=entry.get("owner_country"),
        access=Access(entry["access"]),
        strength=strength,
        score=score,
        explanation=explanation,
        record=entry.get("record"),
        caveats=str(entry.get("caveats") or ""),
        offline=True,
    )

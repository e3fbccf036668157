"""Events on the members' stream, and the officers' lockout rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.events import BROADCAST, Event, EventKind
from policenet.domain.officers import (
    LockoutPolicy,
    Officer,
    Role,
    after_failed_login,
    after_successful_login,
)

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
# What JSON carries unchanged: no floats (NaN never equals itself), no tuples.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
events = st.builds(
    Event,
    id=st.integers(1, 2**63 - 1),
    recipient=st.sampled_from([BROADCAST, "ncb-gb", "gb-metropolitan-police"]) | texts,
    kind=st.sampled_from(
        [
            EventKind.MEMBER_ADMITTED,
            EventKind.MEMBER_REVOKED,
            EventKind.MEMBER_SCOPE_CHANGED,
            EventKind.CERTIFICATE_RENEWED,
            EventKind.AGENCY_ENQUIRY,
            EventKind.NOTICE,
        ]
    ),
    created=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    payload=st.dictionaries(texts, json_values, max_size=5),
)


@given(events)
def test_events_round_trip_through_json(event: Event) -> None:
    line = event.to_json()
    back = Event.from_json(line)
    assert back == event
    assert back.created.utcoffset() == event.created.utcoffset()
    assert Event.from_json(line.encode()) == event


@given(events)
def test_an_event_is_one_line(event: Event) -> None:
    # The stream is line-delimited: a newline inside a payload must not split an event.
    line = event.to_json()
    assert "\n" not in line
    assert "\r" not in line


def test_event_json_is_compact_with_sorted_keys() -> None:
    event = Event(
        id=42,
        recipient="ncb-gb",
        kind=EventKind.AGENCY_ENQUIRY,
        created=WHEN,
        payload={"register": "documents", "agency": "gb-met", "officer": "pc\n123"},
    )
    line = event.to_json()
    body = json.loads(line)
    assert list(body) == ["created", "id", "kind", "payload", "recipient"]
    assert body["created"] == "2025-03-01T12:00:00+00:00"
    assert ", " not in line
    assert ": " not in line


# --- officers' lockout --------------------------------------------------------------


def officer(**changes: Any) -> Officer:
    fields: dict[str, Any] = {
        "username": "pc.smith",
        "display_name": "PC Smith",
        "role": Role.OFFICER,
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "totp_secret": "JBSWY3DPEHPK3PXP",
        "created": WHEN,
    }
    fields.update(changes)
    return Officer(**fields)


POLICY = LockoutPolicy(max_failures=3, lock_for=timedelta(minutes=15))


def test_failures_below_the_limit_are_counted() -> None:
    o = after_failed_login(officer(), WHEN, POLICY)
    o = after_failed_login(o, WHEN, POLICY)
    assert o.failed_logins == 2
    assert o.locked_until is None
    assert not o.locked(WHEN)


def test_the_failure_at_the_limit_locks_and_resets_the_count() -> None:
    o = officer(failed_logins=POLICY.max_failures - 1)
    now = WHEN + timedelta(hours=1)
    locked = after_failed_login(o, now, POLICY)
    assert locked.failed_logins == 0
    assert locked.locked_until == now + POLICY.lock_for
    assert locked.locked(now)
    assert locked.locked(now + POLICY.lock_for - timedelta(microseconds=1))
    assert not locked.locked(now + POLICY.lock_for)


def test_a_successful_login_clears_failures_and_lock() -> None:
    o = after_successful_login(officer(failed_logins=2, locked_until=WHEN + timedelta(minutes=5)))
    assert o.failed_logins == 0
    assert o.locked_until is None
    assert not o.locked(WHEN)


def test_the_lockout_rules_change_nothing_else() -> None:
    o = officer(disabled=True, role=Role.OPERATOR)
    for changed in (after_failed_login(o, WHEN, POLICY), after_successful_login(o)):
        assert (changed.username, changed.role, changed.disabled, changed.password_hash) == (
            o.username,
            o.role,
            o.disabled,
            o.password_hash,
        )


@given(st.integers(1, 10), st.integers(0, 40))
def test_every_run_of_max_failures_locks_once(max_failures: int, attempts: int) -> None:
    policy = LockoutPolicy(max_failures=max_failures, lock_for=timedelta(minutes=10))
    o = officer()
    locks = 0
    for i in range(attempts):
        now = WHEN + timedelta(seconds=i)
        was_locked_until = o.locked_until
        o = after_failed_login(o, now, policy)
        if o.locked_until != was_locked_until:
            locks += 1
            assert o.locked_until == now + policy.lock_for
    assert locks == attempts // max_failures
    assert o.failed_logins == attempts % max_failures

"""Sealed messages and attachments: who can read them, and that any tampering is caught."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import Forbidden, IntegrityFailure, InvalidField, InvalidInput, TooLarge
from policenet.security import pki, sealed
from policenet.security.sealed import (
    AttachmentDigest,
    OpenedMessage,
    SealedMessage,
    check_sealed_attachment,
    new_content_key,
    open_attachment,
    open_message,
    seal,
    seal_attachment,
    verify,
)
from policenet.security.sealed_stream import MIN_CHUNK_SIZE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SENDER = "ncb-gb"
BODY = "Passport 123456789 reported stolen — holder detained at Dover.".encode()


@pytest.fixture(scope="module")
def keys() -> dict[str, ec.EllipticCurvePrivateKey]:
    return {code: pki.generate_key() for code in ("ncb-gb", "ncb-fr", "ncb-de", "ncb-it")}


def publics(
    keys: dict[str, ec.EllipticCurvePrivateKey], *codes: str
) -> dict[str, ec.EllipticCurvePublicKey]:
    return {code: keys[code].public_key() for code in codes}


def data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def pieces(blob: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    """``blob`` cut into pieces of the given sizes (repeated), as a file or socket delivers it."""
    cycle = list(sizes) or [len(blob) or 1]
    at, turn = 0, 0
    while at < len(blob):
        step = max(1, cycle[turn % len(cycle)])
        yield blob[at : at + step]
        at += step
        turn += 1


def sealed_attachment(
    key: bytes, index: int, plain: bytes, name: str = "photo.jpg", chunk_size: int = 1024
) -> tuple[bytes, AttachmentDigest]:
    stream = seal_attachment(key, index, pieces(plain, [700]), chunk_size=chunk_size)
    sealed_bytes = b"".join(stream)
    return sealed_bytes, stream.descriptor(name)


@pytest.fixture(scope="module")
def with_files(
    keys: dict[str, ec.EllipticCurvePrivateKey],
) -> tuple[SealedMessage, bytes, list[bytes]]:
    """A message to ncb-fr and ncb-de with two attachments; also its content key and streams."""
    key = new_content_key()
    first, first_digest = sealed_attachment(key, 0, data(5000, 1), "Dover custody photo.jpg")
    second, second_digest = sealed_attachment(key, 1, data(10, 2), "statement.pdf")
    message, content_key = seal(
        SENDER,
        keys[SENDER],
        publics(keys, "ncb-fr", "ncb-de"),
        kind="reply",
        case="PN-2026-000042",
        now=NOW,
        body=BODY,
        attachments=[first_digest, second_digest],
        content_key=key,
    )
    assert content_key == key
    return message, key, [first, second]


# --- messages --------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["ncb-fr", "ncb-de", SENDER])
def test_each_recipient_and_the_sender_read_the_body_and_names(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
    reader: str,
) -> None:
    message, key, streams = with_files
    opened = open_message(message, reader, keys[reader], keys[SENDER].public_key())
    assert opened.body == BODY
    assert opened.content_key == key
    assert [a.name for a in opened.attachments] == ["Dover custody photo.jpg", "statement.pdf"]
    assert b"".join(opened.open_attachment(0, pieces(streams[0], [333]))) == data(5000, 1)
    assert b"".join(opened.open_attachment(1, [streams[1]])) == data(10, 2)


def test_the_header_says_what_the_hub_needs_and_no_more(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    message, _, streams = with_files
    assert message.sender == SENDER
    assert message.recipients == ("ncb-de", "ncb-fr")
    assert set(message.keys) == {SENDER, "ncb-de", "ncb-fr"}
    assert message.header["case"] == "PN-2026-000042"
    assert datetime.fromisoformat(message.header["created"]) == NOW
    assert [a["sha256"] for a in message.header["attachments"]] == [
        hashlib.sha256(s).hexdigest() for s in streams
    ]
    assert [a["sealed_size"] for a in message.header["attachments"]] == [len(s) for s in streams]
    stored = json.dumps(message.to_json())
    for secret in ("Dover", "statement.pdf", "123456789"):
        assert secret not in stored
    assert BODY not in message.ciphertext


def test_two_seals_of_the_same_text_differ(keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
    args: dict[str, Any] = {"kind": "request", "case": None, "now": NOW, "body": BODY}
    one, key_one = seal(SENDER, keys[SENDER], publics(keys, "ncb-fr"), **args)
    two, key_two = seal(SENDER, keys[SENDER], publics(keys, "ncb-fr"), **args)
    assert key_one != key_two
    assert one.ciphertext != two.ciphertext
    assert one.message_id != two.message_id


def test_a_member_not_named_gets_forbidden(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    message = with_files[0]
    assert verify(message, keys[SENDER].public_key())
    with pytest.raises(Forbidden, match="ncb-it"):
        open_message(message, "ncb-it", keys["ncb-it"], keys[SENDER].public_key())


def test_a_recipient_with_another_members_key_cannot_unwrap(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    with pytest.raises(IntegrityFailure, match="ncb-fr"):
        open_message(with_files[0], "ncb-fr", keys["ncb-de"], keys[SENDER].public_key())


def test_a_message_signed_by_another_key_fails(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    message = with_files[0]
    forged, _ = seal(
        SENDER, keys["ncb-it"], publics(keys, "ncb-fr"), kind="reply", case=None, now=NOW, body=b"x"
    )
    assert verify(forged, keys["ncb-it"].public_key())
    assert not verify(forged, keys[SENDER].public_key())
    assert not verify(message, keys["ncb-fr"].public_key())
    with pytest.raises(IntegrityFailure, match="signature"):
        open_message(forged, "ncb-fr", keys["ncb-fr"], keys[SENDER].public_key())


def flip(blob: bytes, at: int = -1) -> bytes:
    changed = bytearray(blob)
    changed[at] ^= 0x01
    return bytes(changed)


def with_header(**changes: Any) -> Callable[[SealedMessage], SealedMessage]:
    def change(message: SealedMessage) -> SealedMessage:
        return dataclasses.replace(message, header={**message.header, **changes})

    return change


def with_attachment(**changes: Any) -> Callable[[SealedMessage], SealedMessage]:
    def change(message: SealedMessage) -> SealedMessage:
        entries = [dict(e) for e in message.header["attachments"]]
        entries[0].update(changes)
        return with_header(attachments=entries)(message)

    return change


def with_key(code: str, blob: Callable[[bytes], bytes]) -> Callable[[SealedMessage], SealedMessage]:
    def change(message: SealedMessage) -> SealedMessage:
        return dataclasses.replace(message, keys={**message.keys, code: blob(message.keys[code])})

    return change


TAMPERINGS: dict[str, Callable[[SealedMessage], SealedMessage]] = {
    "case": with_header(case="PN-2026-000043"),
    "kind": with_header(kind="request"),
    "created": with_header(created=(NOW + timedelta(days=1)).isoformat()),
    "sender": with_header(sender="ncb-it"),
    "recipients": with_header(recipients=["ncb-de", "ncb-fr", "ncb-it"]),
    "id": with_header(id="0" * 32),
    "attachment sha256": with_attachment(sha256="0" * 64),
    "attachment size": with_attachment(sealed_size=4096),
    "attachment dropped": with_header(attachments=[]),
    "ciphertext byte": lambda m: dataclasses.replace(m, ciphertext=flip(m.ciphertext, 3)),
    "ciphertext cut": lambda m: dataclasses.replace(m, ciphertext=m.ciphertext[:-1]),
    "nonce": lambda m: dataclasses.replace(m, nonce=flip(m.nonce)),
    "reader's wrapped key": with_key("ncb-fr", flip),
    "another's wrapped key": with_key("ncb-de", flip),
    "wrapped keys swapped": lambda m: dataclasses.replace(
        m, keys={**m.keys, "ncb-fr": m.keys["ncb-de"], "ncb-de": m.keys["ncb-fr"]}
    ),
    "signature": lambda m: dataclasses.replace(m, signature=flip(m.signature, 10)),
    "signature cut": lambda m: dataclasses.replace(m, signature=m.signature[:-2]),
}


@pytest.mark.parametrize("part", list(TAMPERINGS))
def test_tampering_with_any_part_is_caught(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
    part: str,
) -> None:
    tampered = TAMPERINGS[part](with_files[0])
    assert tampered != with_files[0]
    assert not verify(tampered, keys[SENDER].public_key())
    with pytest.raises(IntegrityFailure):
        open_message(tampered, "ncb-fr", keys["ncb-fr"], keys[SENDER].public_key())


def test_a_key_wrapped_by_the_hub_for_another_content_key_is_refused(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    message = with_files[0]
    other, _ = seal(
        SENDER, keys[SENDER], publics(keys, "ncb-fr"), kind="reply", case=None, now=NOW, body=b"x"
    )
    swapped = dataclasses.replace(message, keys={**message.keys, "ncb-fr": other.keys["ncb-fr"]})
    assert not verify(swapped, keys[SENDER].public_key())


def test_json_round_trip_keeps_the_message_verifiable(
    keys: dict[str, ec.EllipticCurvePrivateKey],
    with_files: tuple[SealedMessage, bytes, list[bytes]],
) -> None:
    message = with_files[0]
    text = json.dumps(message.to_json())
    again = SealedMessage.from_json(text)
    assert again == message
    assert SealedMessage.from_json(json.loads(text)) == message
    assert verify(again, keys[SENDER].public_key())
    assert open_message(again, "ncb-de", keys["ncb-de"], keys[SENDER].public_key()).body == BODY


def broken(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or with ... delete) the JSON field at a dotted path."""

    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del target[key]
        else:
            target[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (broken("nonce", "not base64!"), "nonce"),
        (broken("nonce", base64.b64encode(b"short").decode()), "nonce"),
        (broken("ciphertext", 12), "ciphertext"),
        (broken("signature", ...), "signature"),
        (broken("extra", 1), "extra"),
        (broken("keys", []), "keys"),
        (broken("keys.ncb-fr", ...), "keys"),
        (broken("keys.ncb-fr", base64.b64encode(b"x" * 20).decode()), "keys.ncb-fr"),
        (broken("header", "x"), "header"),
        (broken("header.kind", ...), "header.kind"),
        (broken("header.colour", "red"), "header.colour"),
        (broken("header.format", 2), "header.format"),
        (broken("header.format", 1.0), "header.format"),
        (broken("header.id", "abc"), "header.id"),
        (broken("header.sender", "NCB GB"), "header.sender"),
        (broken("header.recipients", []), "header.recipients"),
        (broken("header.recipients", ["ncb-fr", "ncb-de"]), "header.recipients"),
        (broken("header.recipients", ["ncb-de", "ncb-fr", "ncb-gb"]), "header.recipients"),
        (broken("header.case", ""), "header.case"),
        (broken("header.kind", "Reply!"), "header.kind"),
        (broken("header.created", "yesterday"), "header.created"),
        (broken("header.created", "2026-03-01T12:00:00"), "header.created"),
        (broken("header.attachments", {}), "header.attachments"),
        (broken("header.attachments.0.index", 1), "header.attachments[0].index"),
        (broken("header.attachments.1.sealed_size", "12"), "header.attachments[1].sealed_size"),
        (broken("header.attachments.1.sealed_size", 3), "header.attachments[1].sealed_size"),
        (broken("header.attachments.0.sha256", "AB" * 32), "header.attachments[0].sha256"),
        (broken("header.attachments.0.name", "x.jpg"), "header.attachments[0]"),
    ],
)
def test_from_json_names_the_bad_field(
    with_files: tuple[SealedMessage, bytes, list[bytes]],
    change: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    doc = with_files[0].to_json()
    change(doc)
    with pytest.raises(InvalidField) as caught:
        SealedMessage.from_json(doc)
    assert caught.value.field == field


@pytest.mark.parametrize("text", ["not json", "[1, 2]", b"\xff"])
def test_from_json_refuses_what_is_not_a_json_object(text: str | bytes) -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        SealedMessage.from_json(text)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sender_code": "GB"}, "sender_code"),
        ({"recipients": {}}, "recipients"),
        ({"recipients": {SENDER: None}}, "recipients"),
        ({"kind": "a b"}, "kind"),
        ({"case": "x" * 65}, "case"),
        ({"now": datetime(2026, 3, 1, 12, 0)}, "now"),
        ({"content_key": b"short"}, "content_key"),
    ],
)
def test_seal_names_a_bad_argument(
    keys: dict[str, ec.EllipticCurvePrivateKey], changes: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {
        "sender_code": SENDER,
        "sender_key": keys[SENDER],
        "recipients": publics(keys, "ncb-fr"),
        "kind": "request",
        "case": None,
        "now": NOW,
        "body": b"",
    }
    with pytest.raises(InvalidField) as caught:
        seal(**{**args, **changes})
    assert caught.value.field == field


def test_seal_keeps_the_time_in_utc(keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
    paris = timezone(timedelta(hours=1))
    message, _ = seal(
        SENDER,
        keys[SENDER],
        publics(keys, "ncb-fr"),
        kind="request",
        case=None,
        now=NOW.astimezone(paris),
        body=b"",
    )
    assert message.header["created"] == "2026-03-01T12:00:00+00:00"


def test_seal_refuses_a_body_over_the_limit(keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
    with pytest.raises(TooLarge, match=str(sealed.MAX_BODY_BYTES)):
        seal(
            SENDER,
            keys[SENDER],
            publics(keys, "ncb-fr"),
            kind="request",
            case=None,
            now=NOW,
            body=bytes(sealed.MAX_BODY_BYTES + 1),
        )


def test_seal_wants_attachments_in_index_order(
    keys: dict[str, ec.EllipticCurvePrivateKey],
) -> None:
    key = new_content_key()
    _, second = sealed_attachment(key, 1, b"abc")
    with pytest.raises(InvalidField, match="attachment 0 was sealed as 1"):
        seal(
            SENDER,
            keys[SENDER],
            publics(keys, "ncb-fr"),
            kind="request",
            case=None,
            now=NOW,
            body=b"",
            attachments=[second],
            content_key=key,
        )


def test_opened_message_refuses_an_attachment_it_does_not_have() -> None:
    opened = OpenedMessage(b"", new_content_key(), ())
    with pytest.raises(InvalidField, match="no attachment 0"):
        opened.open_attachment(0, [b""])


# --- attachments -----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([0, 1, 255, 256, 257, 1024, 4096, 5000])
    | st.integers(min_value=0, max_value=20_000),
    chunk_size=st.sampled_from([MIN_CHUNK_SIZE, 1000, 1024, 4096]),
    write_sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=4),
    read_sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=4),
    index=st.integers(min_value=0, max_value=sealed.MAX_ATTACHMENTS - 1),
)
def test_attachment_round_trip_whatever_the_chunking(
    size: int, chunk_size: int, write_sizes: list[int], read_sizes: list[int], index: int
) -> None:
    plain = data(size, size)
    key = new_content_key()
    stream = seal_attachment(key, index, pieces(plain, write_sizes), chunk_size=chunk_size)
    sealed_bytes = b"".join(stream)
    chunks = max(1, -(-size // chunk_size))
    assert stream.sealed_size == len(sealed_bytes) == 12 + size + 20 * chunks
    assert stream.sha256 == hashlib.sha256(sealed_bytes).hexdigest()
    opened = open_attachment(
        key, index, pieces(sealed_bytes, read_sizes), stream.sha256, stream.sealed_size
    )
    assert b"".join(opened) == plain


def test_the_hub_checks_a_stream_against_the_header_without_a_key() -> None:
    sealed_bytes, digest = sealed_attachment(new_content_key(), 0, data(3000))
    passed = check_sealed_attachment(pieces(sealed_bytes, [100]), digest.sha256, digest.sealed_size)
    assert b"".join(passed) == sealed_bytes
    passed_on = bytearray()
    altered = check_sealed_attachment(
        pieces(flip(sealed_bytes), [100]), digest.sha256, digest.sealed_size
    )
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        for piece in altered:
            passed_on += piece
    assert 0 < len(passed_on) < len(sealed_bytes)  # all but the last piece went on


def test_a_stream_read_before_its_end_has_no_digest() -> None:
    stream = seal_attachment(new_content_key(), 0, [b"abc"])
    next(stream)
    with pytest.raises(InvalidInput, match="not been read to its end"):
        stream.descriptor("a.txt")


def frames(sealed_bytes: bytes) -> tuple[bytes, list[bytes]]:
    """The stream header and the length-prefixed frames of a sealed stream."""
    head, rest, out = sealed_bytes[:12], sealed_bytes[12:], []
    while rest:
        length = 4 + int.from_bytes(rest[:4], "big")
        out.append(rest[:length])
        rest = rest[length:]
    return head, out


def rehash(blob: bytes) -> tuple[str, int]:
    return hashlib.sha256(blob).hexdigest(), len(blob)


CONTENT_KEY = bytes(range(32))
PLAIN = data(4000, 7)
SEALED, DIGEST = sealed_attachment(CONTENT_KEY, 0, PLAIN, chunk_size=1024)
HEAD, FRAMES = frames(SEALED)
OTHER_INDEX, OTHER_DIGEST = sealed_attachment(CONTENT_KEY, 1, PLAIN, chunk_size=1024)


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(HEAD + b"".join(FRAMES[:-1]), id="last frame dropped"),
        pytest.param(HEAD + b"".join(FRAMES[:1] + FRAMES[2:]), id="middle frame dropped"),
        pytest.param(HEAD + b"".join([FRAMES[1], FRAMES[0], *FRAMES[2:]]), id="reordered"),
        pytest.param(HEAD + b"".join([*FRAMES, FRAMES[-1]]), id="final frame repeated"),
        pytest.param(flip(SEALED, 200), id="a byte flipped"),
        pytest.param(flip(SEALED, 5), id="the prefix altered"),
        pytest.param(b"XXXX" + SEALED[4:], id="not an attachment"),
        pytest.param(SEALED[:-7], id="cut inside a frame"),
        pytest.param(SEALED[:40], id="cut inside the first frame"),
        pytest.param(OTHER_INDEX, id="another attachment's stream"),
    ],
)
def test_an_altered_stream_is_caught_even_with_a_matching_digest(stream: bytes) -> None:
    """Each altered stream is offered with its own digest, so the AEAD framing must catch it."""
    digest, size = rehash(stream)
    with pytest.raises(IntegrityFailure) as caught:
        b"".join(open_attachment(CONTENT_KEY, 0, pieces(stream, [512]), digest, size))
    assert "SHA-256" not in caught.value.message


def test_a_stream_of_another_message_is_caught() -> None:
    other = new_content_key()
    sealed_bytes, digest = sealed_attachment(other, 0, PLAIN)
    with pytest.raises(IntegrityFailure, match="does not decrypt"):
        b"".join(open_attachment(CONTENT_KEY, 0, [sealed_bytes], digest.sha256, digest.sealed_size))


@pytest.mark.parametrize(
    ("stream", "expected_sha256", "expected_size", "message"),
    [
        (SEALED, OTHER_DIGEST.sha256, DIGEST.sealed_size, "SHA-256"),
        (HEAD + b"".join(FRAMES[:-1]), DIGEST.sha256, DIGEST.sealed_size, "cut short"),
        (SEALED + b"\x00", DIGEST.sha256, DIGEST.sealed_size, "longer than"),
    ],
)
def test_a_stream_other_than_the_signed_one_is_caught_before_its_last_chunk(
    stream: bytes, expected_sha256: str, expected_size: int, message: str
) -> None:
    opened = open_attachment(CONTENT_KEY, 0, pieces(stream, [1024]), expected_sha256, expected_size)
    got = bytearray()
    with pytest.raises(IntegrityFailure, match=message):
        for chunk in opened:
            got += chunk
    assert len(got) < len(PLAIN)


def test_open_attachment_checks_its_arguments_at_once() -> None:
    with pytest.raises(InvalidField) as caught:
        open_attachment(CONTENT_KEY, 0, [SEALED], "xyz", DIGEST.sealed_size)
    assert caught.value.field == "expected_sha256"
    with pytest.raises(InvalidField) as caught:
        seal_attachment(CONTENT_KEY, sealed.MAX_ATTACHMENTS, [b""])
    assert caught.value.field == "index"
    with pytest.raises(InvalidField) as caught:
        seal_attachment(CONTENT_KEY, 0, [b""], chunk_size=10)
    assert caught.value.field == "chunk_size"


def test_an_attachment_over_50_mib_is_refused_while_streaming() -> None:
    mebibyte = bytes(1024 * 1024)  # one buffer, yielded again and again

    def fifty_one_mebibytes() -> Iterator[bytes]:
        for _ in range(51):
            yield mebibyte

    stream = seal_attachment(new_content_key(), 0, fifty_one_mebibytes(), chunk_size=1024 * 1024)
    with pytest.raises(TooLarge, match="52428800 bytes"):
        for _ in stream:
            pass


def test_an_attachment_of_exactly_50_mib_is_sealed() -> None:
    mebibyte = bytes(1024 * 1024)
    stream = seal_attachment(new_content_key(), 0, (mebibyte for _ in range(50)), 1024 * 1024)
    assert sum(len(piece) for piece in stream) == stream.sealed_size > sealed.MAX_ATTACHMENT_BYTES

"""Sealed attachments: files of a sealed message, encrypted and checked as a stream.

An attachment is never held in memory whole: :func:`seal_attachment` turns an
iterable of plaintext pieces into an iterator of sealed bytes, and
:func:`open_attachment` turns sealed bytes (cut into pieces of any size, as a
file or an HTTP body delivers them) back into plaintext. Nothing here reads or
writes files: callers stream to and from disk themselves.

The sealed stream (the STREAM construction of Hoang, Reyhanitabar, Rogaway
and Vizár, as in Tink and age)::

    "PNA\\x01"  prefix (8 random bytes)
    then for each chunk:  length (4 bytes, big-endian)  AES-256-GCM ciphertext+tag

- key   = HKDF-SHA256(content key, salt=prefix, info="policenet-attachment-v1" ‖ index);
  the message's one content key covers the body and every attachment;
- nonce = prefix ‖ chunk counter (4 bytes, big-endian);
- AAD   = "policenet-attachment-v1" ‖ index ‖ chunk counter ‖ final flag (1 byte).

So reordered, dropped or repeated chunks, a cut stream (its last chunk was
sealed as not final), data after the final chunk, and a stream of another
attachment index all fail to decrypt. The SHA-256 and length of the whole
sealed stream go into the message's signed header (:class:`AttachmentDigest`),
which binds the stream to the sender: every recipient knows the content key
and could seal a stream of its own, but not one with the signed digest. The
hub, which holds no key, can check a stored stream against the header with
:func:`check_sealed_attachment`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from policenet.errors import IntegrityFailure, InvalidField, InvalidInput, TooLarge

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
"""The most plaintext one attachment may hold (50 MiB)."""
MAX_ATTACHMENTS = 20
"""The most attachments one message may carry."""
CHUNK_SIZE = 64 * 1024
"""Plaintext bytes per sealed chunk unless the sender chooses otherwise."""
MIN_CHUNK_SIZE = 256
"""The smallest chunk a sender may choose (which bounds the framing overhead)."""
MAX_CHUNK_SIZE = 1024 * 1024
"""The largest chunk a sender may choose, and so the most a reader buffers per chunk."""
CONTENT_KEY_BYTES = 32

MAGIC = b"PNA\x01"
_PREFIX_BYTES = 8
HEADER_BYTES = len(MAGIC) + _PREFIX_BYTES
_LENGTH_BYTES = 4
_TAG_BYTES = 16
_LABEL = b"policenet-attachment-v1"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_BAD_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")


_MAX_FRAMES = -(-MAX_ATTACHMENT_BYTES // MIN_CHUNK_SIZE)

MIN_SEALED_SIZE = HEADER_BYTES + _LENGTH_BYTES + _TAG_BYTES
"""The sealed size of an empty attachment: the stream header and one empty final chunk."""
MAX_SEALED_SIZE = HEADER_BYTES + MAX_ATTACHMENT_BYTES + _MAX_FRAMES * (_LENGTH_BYTES + _TAG_BYTES)
"""The largest sealed size of an attachment within :data:`MAX_ATTACHMENT_BYTES` (about 54 MiB)."""


@dataclass(frozen=True, slots=True)
class AttachmentDigest:
    """What a sealed message says about one attachment.

    ``index`` is its position in the message (0, 1, ...), ``sealed_size`` and
    ``sha256`` (lower-case hex) describe the sealed stream, not the plaintext.
    Those three go into the message's signed, readable header; ``name`` (the
    file name the sender gave) goes only into the encrypted body, because a
    file name can say as much as the file.
    """

    index: int
    name: str
    sealed_size: int
    sha256: str

    def header_entry(self) -> dict[str, object]:
        return {"index": self.index, "sealed_size": self.sealed_size, "sha256": self.sha256}


def check_attachment_entries(entries: object, field: str) -> None:
    """InvalidField unless ``entries`` is a list of :meth:`AttachmentDigest.header_entry` forms.

    Indexes must run 0, 1, ... in order; ``field`` names the list in errors.
    """
    if not isinstance(entries, list) or len(entries) > MAX_ATTACHMENTS:
        raise InvalidField(field, f"must be a list of at most {MAX_ATTACHMENTS} attachments")
    for position, entry in enumerate(entries):
        where = f"{field}[{position}]"
        if not isinstance(entry, dict) or set(entry) != {"index", "sealed_size", "sha256"}:
            raise InvalidField(where, "must hold exactly index, sealed_size and sha256")
        if entry["index"] != position or isinstance(entry["index"], bool):
            raise InvalidField(f"{where}.index", f"must be {position}")
        size = entry["sealed_size"]
        if isinstance(size, bool) or not isinstance(size, int):
            raise InvalidField(f"{where}.sealed_size", "must be an integer")
        if not MIN_SEALED_SIZE <= size <= MAX_SEALED_SIZE:
            raise InvalidField(
                f"{where}.sealed_size",
                f"{size} is not between {MIN_SEALED_SIZE} and {MAX_SEALED_SIZE}",
            )
        if not isinstance(entry["sha256"], str) or not _SHA256_HEX.fullmatch(entry["sha256"]):
            raise InvalidField(f"{where}.sha256", "must be 64 lower-case hex digits")


def check_index(index: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise InvalidField("index", f"must be an integer, not {type(index).__name__}")
    if not 0 <= index < MAX_ATTACHMENTS:
        raise InvalidField("index", f"{index} is not between 0 and {MAX_ATTACHMENTS - 1}")
    return index


def check_name(name: str) -> str:
    """``name`` if it is a plain file name (no directory, no control character); else InvalidField.

    Receivers must still treat it as untrusted text when they write a file.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidField("name", "an attachment needs a file name")
    if len(name) > 255:
        raise InvalidField("name", f"{len(name)} characters; at most 255")
    if _BAD_NAME_CHARACTERS.search(name) or name in (".", ".."):
        raise InvalidField("name", f"{name!r} is not a plain file name")
    return name


def check_content_key(content_key: bytes) -> bytes:
    if not isinstance(content_key, bytes) or len(content_key) != CONTENT_KEY_BYTES:
        raise InvalidField("content_key", f"must be {CONTENT_KEY_BYTES} bytes")
    return content_key


def new_content_key() -> bytes:
    """A fresh random content key: one per message, covering its body and attachments."""
    return os.urandom(CONTENT_KEY_BYTES)


def _cipher(content_key: bytes, index: int, prefix: bytes) -> AESGCM:
    info = _LABEL + b"\x00" + index.to_bytes(4, "big")
    key = HKDF(hashes.SHA256(), CONTENT_KEY_BYTES, salt=prefix, info=info).derive(content_key)
    return AESGCM(key)


def _nonce(prefix: bytes, counter: int) -> bytes:
    return prefix + counter.to_bytes(4, "big")


def _aad(index: int, counter: int, final: bool) -> bytes:
    return _LABEL + index.to_bytes(4, "big") + counter.to_bytes(4, "big") + bytes([final])


class SealedStream(Iterator[bytes]):
    """The sealed bytes of one attachment, produced as its plaintext is read.

    Iterate it to the end (writing each piece out); then :attr:`sha256`,
    :attr:`sealed_size` and :meth:`descriptor` describe what was produced. The
    plaintext is cut into chunks of ``chunk_size`` bytes whatever the sizes of
    the pieces it arrives in. Raises TooLarge during iteration once more than
    :data:`MAX_ATTACHMENT_BYTES` have arrived; what was produced by then must be
    discarded.
    """

    def __init__(
        self, content_key: bytes, index: int, chunks: Iterable[bytes], chunk_size: int
    ) -> None:
        check_content_key(content_key)
        self.index = check_index(index)
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise InvalidField(
                "chunk_size", f"{chunk_size} is not between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}"
            )
        self._hash = hashlib.sha256()
        self._size = 0
        self._done = False
        self._frames = self._seal(content_key, chunks, chunk_size)

    def __next__(self) -> bytes:
        piece = next(self._frames)
        self._hash.update(piece)
        self._size += len(piece)
        return piece

    def _seal(
        self, content_key: bytes, chunks: Iterable[bytes], chunk_size: int
    ) -> Iterator[bytes]:
        prefix = os.urandom(_PREFIX_BYTES)
        cipher = _cipher(content_key, self.index, prefix)
        counter = 0

        def frame(plain: bytes, final: bool) -> bytes:
            sealed = cipher.encrypt(
                _nonce(prefix, counter), plain, _aad(self.index, counter, final)
            )
            return len(sealed).to_bytes(_LENGTH_BYTES, "big") + sealed

        yield MAGIC + prefix
        pending = bytearray()
        received = 0
        for piece in chunks:
            received += len(piece)
            if received > MAX_ATTACHMENT_BYTES:
                raise TooLarge(
                    f"attachment {self.index} is over the limit of {MAX_ATTACHMENT_BYTES} bytes "
                    f"({MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB)"
                )
            pending += piece
            # Keep at least one byte back: only at the end is it known which chunk is final.
            while len(pending) > chunk_size:
                yield frame(bytes(pending[:chunk_size]), final=False)
                del pending[:chunk_size]
                counter += 1
        yield frame(bytes(pending), final=True)
        self._done = True

    def _finished(self) -> None:
        if not self._done:
            raise InvalidInput(f"attachment {self.index} has not been read to its end yet")

    @property
    def sha256(self) -> str:
        """SHA-256 of the whole sealed stream, lower-case hex (once it has been read to its end)."""
        self._finished()
        return self._hash.hexdigest()

    @property
    def sealed_size(self) -> int:
        """Bytes in the whole sealed stream (once it has been read to its end)."""
        self._finished()
        return self._size

    def descriptor(self, name: str) -> AttachmentDigest:
        """What :func:`policenet.security.sealed.seal` needs to know of this attachment."""
        return AttachmentDigest(self.index, check_name(name), self.sealed_size, self.sha256)


def seal_attachment(
    content_key: bytes, index: int, chunks: Iterable[bytes], chunk_size: int = CHUNK_SIZE
) -> SealedStream:
    """Seal attachment number ``index`` of a message under its ``content_key``, as a stream.

    Seal every attachment before the message itself: the message's signed
    header carries each stream's :meth:`SealedStream.descriptor`. InvalidField
    for a bad key, index or chunk size (raised at once); TooLarge while
    iterating, when the plaintext passes :data:`MAX_ATTACHMENT_BYTES`.
    """
    return SealedStream(content_key, index, chunks, chunk_size)


def _check_expected(expected_sha256: str, expected_size: int) -> None:
    if not isinstance(expected_sha256, str) or not _SHA256_HEX.fullmatch(expected_sha256):
        raise InvalidField("expected_sha256", "must be 64 lower-case hex digits")
    if isinstance(expected_size, bool) or not isinstance(expected_size, int):
        raise InvalidField("expected_size", "must be an integer")
    if not MIN_SEALED_SIZE <= expected_size <= MAX_SEALED_SIZE:
        raise InvalidField(
            "expected_size",
            f"{expected_size} is not between {MIN_SEALED_SIZE} and {MAX_SEALED_SIZE}",
        )


def check_sealed_attachment(
    sealed: Iterable[bytes], expected_sha256: str, expected_size: int
) -> Iterator[bytes]:
    """Pass ``sealed`` through, checking its length and SHA-256 against the message header.

    Needs no key: the hub uses it to refuse an upload that is not the stream
    the sender signed. Raises IntegrityFailure as soon as more than
    ``expected_size`` bytes arrive, and, when the input ends short or with
    another digest, before the last piece is passed on. Earlier pieces have
    been passed on by then: treat them as unchecked until the iterator ends
    without error.
    """
    _check_expected(expected_sha256, expected_size)
    return _checked(sealed, expected_sha256, expected_size)


def _checked(sealed: Iterable[bytes], expected_sha256: str, expected_size: int) -> Iterator[bytes]:
    digest = hashlib.sha256()
    size = 0
    held: bytes | None = None  # one piece held back, so the last is passed on only once checked
    for piece in sealed:
        size += len(piece)
        if size > expected_size:
            raise IntegrityFailure(
                f"the sealed attachment is longer than the {expected_size} bytes the message says"
            )
        digest.update(piece)
        if held:
            yield held
        held = bytes(piece)
    if size != expected_size:
        raise IntegrityFailure(
            f"the sealed attachment is {size} bytes, the message says {expected_size}: "
            "it was cut short"
        )
    if not hmac.compare_digest(digest.hexdigest(), expected_sha256):
        raise IntegrityFailure("the sealed attachment's SHA-256 is not the one the message says")
    if held:
        yield held


class _Reader:
    """Exact reads over an iterator of pieces of any size."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._buffer = bytearray()

    def _fill(self, wanted: int) -> bool:
        while len(self._buffer) < wanted:
            piece = next(self._pieces, None)
            if piece is None:
                return False
            self._buffer += piece
        return True

    def read(self, count: int, what: str) -> bytes:
        if not self._fill(count):
            raise IntegrityFailure(f"the sealed attachment ends inside {what}: it was cut short")
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def at_end(self) -> bool:
        return not self._fill(1)


def open_attachment(
    content_key: bytes,
    index: int,
    sealed: Iterable[bytes],
    expected_sha256: str,
    expected_size: int,
) -> Iterator[bytes]:
    """The plaintext of attachment ``index``, read from its sealed bytes in pieces of any size.

    ``content_key`` is the one :func:`policenet.security.sealed.open_message`
    returns; ``expected_sha256`` and ``expected_size`` come from the message's
    verified header (its :class:`AttachmentDigest`). Raises IntegrityFailure
    for any alteration, reordering, a cut stream (no final chunk), data after
    the final chunk, another attachment's stream, or a length or digest other
    than expected. The digest is checked before the last plaintext chunk is
    yielded, but earlier chunks have been yielded by then: a caller writing to
    disk must write to a temporary file and keep it only when the iterator has
    ended without error. Bad arguments raise InvalidField at once.
    """
    check_content_key(content_key)
    check_index(index)
    _check_expected(expected_sha256, expected_size)
    return _open(content_key, index, _checked(sealed, expected_sha256, expected_size))


def _open(content_key: bytes, index: int, sealed: Iterator[bytes]) -> Iterator[bytes]:
    reader = _Reader(sealed)
    head = reader.read(HEADER_BYTES, "its header")
    if not head.startswith(MAGIC):
        raise IntegrityFailure("the sealed attachment does not start as a policenet attachment")
    prefix = head[len(MAGIC) :]
    cipher = _cipher(content_key, index, prefix)
    counter = 0
    while True:
        length = int.from_bytes(reader.read(_LENGTH_BYTES, f"chunk {counter}'s length"), "big")
        if not _TAG_BYTES <= length <= MAX_CHUNK_SIZE + _TAG_BYTES:
            raise IntegrityFailure(f"chunk {counter} of the sealed attachment has a bad length")
        sealed_chunk = reader.read(length, f"chunk {counter}")
        final = reader.at_end()
        try:
            plain = cipher.decrypt(
                _nonce(prefix, counter), sealed_chunk, _aad(index, counter, final)
            )
        except InvalidTag:
            raise IntegrityFailure(
                f"chunk {counter} of attachment {index} does not decrypt: the stream was altered, "
                "reordered or cut, or belongs to another attachment or message"
            ) from None
        if plain:
            yield plain
        if final:
            return
        counter += 1

"""Action-cache entries in the format of Bazel's remote cache: an ``ActionResult`` message.

Bazel's HTTP cache protocol stores an ``ActionResult`` (remote-apis,
build/bazel/remote/execution/v2/remote_execution.proto) under ``/ac/<key>`` and blobs
under ``/cas/<sha256 of the blob>``. Servers such as bazel-remote check that what is put
under ``/ac/`` parses as an ``ActionResult`` and that ``/cas/`` keys match their content,
so PoetFlow writes real ones: each output (the result record, JUnit files, wheels) is an
``OutputFile`` naming its blob. Only the few fields used here are encoded, by hand, in the
protobuf wire format (varints and length-delimited fields), to need no protobuf runtime.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["Digest", "ProtocolError", "decode_action_result", "encode_action_result"]

# Field numbers from remote_execution.proto.
_ACTION_RESULT_OUTPUT_FILES = 2
_ACTION_RESULT_EXIT_CODE = 4
_ACTION_RESULT_EXECUTION_METADATA = 9
_OUTPUT_FILE_PATH = 1
_OUTPUT_FILE_DIGEST = 2
_DIGEST_HASH = 1
_DIGEST_SIZE = 2
_METADATA_WORKER = 1

_VARINT = 0
_FIXED64 = 1
_LENGTH = 2
_FIXED32 = 5


class ProtocolError(Exception):
    """Bytes that are not an ActionResult this module can read."""


@dataclass(frozen=True)
class Digest:
    """A CAS key: the lowercase hex sha256 of a blob and its size in bytes."""

    hash: str
    size: int


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LENGTH) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    # proto3 leaves default (zero) values out of the encoding.
    return _varint(number << 3 | _VARINT) + _varint(value) if value else b""


def _digest(digest: Digest) -> bytes:
    return _field(_DIGEST_HASH, digest.hash.encode()) + _int_field(_DIGEST_SIZE, digest.size)


def encode_action_result(outputs: Mapping[str, Digest], *, worker: str) -> bytes:
    """An ActionResult with one OutputFile per ``outputs`` entry (path -> blob), exit
    code 0 (only successes are cached) and ``worker`` in the execution metadata, as the
    protocol advises so that the message is never empty."""
    message = b""
    for path in sorted(outputs):  # fields in a stable order: equal results, equal bytes
        output = _field(_OUTPUT_FILE_PATH, path.encode()) + _field(
            _OUTPUT_FILE_DIGEST, _digest(outputs[path])
        )
        message += _field(_ACTION_RESULT_OUTPUT_FILES, output)
    metadata = _field(_METADATA_WORKER, worker.encode())
    return message + _field(_ACTION_RESULT_EXECUTION_METADATA, metadata)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ProtocolError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of every field; unknown fields are skipped
    over correctly, so entries written by other clients still parse."""
    position = 0
    while position < len(data):
        tag, position = _read_varint(data, position)
        number, wire = tag >> 3, tag & 0x07
        if wire == _VARINT:
            value, position = _read_varint(data, position)
            yield number, wire, value
        elif wire == _LENGTH:
            length, position = _read_varint(data, position)
            if position + length > len(data):
                raise ProtocolError("truncated field")
            yield number, wire, data[position : position + length]
            position += length
        elif wire == _FIXED64:
            position += 8
        elif wire == _FIXED32:
            position += 4
        else:
            raise ProtocolError(f"unsupported wire type {wire}")
    if position != len(data):
        raise ProtocolError("truncated message")


def _decode_digest(data: bytes) -> Digest:
    hash_, size = "", 0
    for number, wire, value in _fields(data):
        if number == _DIGEST_HASH and wire == _LENGTH and isinstance(value, bytes):
            hash_ = value.decode("ascii", "replace")
        elif number == _DIGEST_SIZE and wire == _VARINT and isinstance(value, int):
            size = value
    if len(hash_) != 64:
        raise ProtocolError("an output has no sha256 digest")
    return Digest(hash_, size)


def decode_action_result(data: bytes) -> tuple[dict[str, Digest], int]:
    """The outputs (path -> digest) and exit code of an ActionResult."""
    outputs: dict[str, Digest] = {}
    exit_code = 0
    for number, wire, value in _fields(data):
        if number == _ACTION_RESULT_OUTPUT_FILES and wire == _LENGTH and isinstance(value, bytes):
            path, digest = "", None
            for inner, inner_wire, inner_value in _fields(value):
                if inner == _OUTPUT_FILE_PATH and inner_wire == _LENGTH:
                    assert isinstance(inner_value, bytes)
                    path = inner_value.decode("utf-8", "replace")
                elif inner == _OUTPUT_FILE_DIGEST and inner_wire == _LENGTH:
                    assert isinstance(inner_value, bytes)
                    digest = _decode_digest(inner_value)
            if path and digest is not None:
                outputs[path] = digest
        elif number == _ACTION_RESULT_EXIT_CODE and wire == _VARINT and isinstance(value, int):
            exit_code = value
    return outputs, exit_code

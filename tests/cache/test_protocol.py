"""Action-cache entries are real Bazel ActionResult messages, checked with protobuf itself."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from poetflow.cache.protocol import (
    Digest,
    ProtocolError,
    decode_action_result,
    encode_action_result,
)


def _remote_execution_messages() -> dict[str, Any]:
    """Digest, OutputFile and ActionResult with remote_execution.proto's field numbers
    (the fields PoetFlow uses, plus one it does not: output_directories)."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="build/bazel/remote/execution/v2/subset.proto",
        package="build.bazel.remote.execution.v2",
        syntax="proto3",
    )
    label = descriptor_pb2.FieldDescriptorProto
    digest = proto.message_type.add(name="Digest")
    digest.field.add(name="hash", number=1, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
    digest.field.add(name="size_bytes", number=2, type=label.TYPE_INT64, label=label.LABEL_OPTIONAL)
    output = proto.message_type.add(name="OutputFile")
    output.field.add(name="path", number=1, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
    output.field.add(
        name="digest",
        number=2,
        type=label.TYPE_MESSAGE,
        type_name=".build.bazel.remote.execution.v2.Digest",
        label=label.LABEL_OPTIONAL,
    )
    output.field.add(
        name="is_executable", number=4, type=label.TYPE_BOOL, label=label.LABEL_OPTIONAL
    )
    metadata = proto.message_type.add(name="ExecutedActionMetadata")
    metadata.field.add(name="worker", number=1, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
    result = proto.message_type.add(name="ActionResult")
    result.field.add(
        name="output_files",
        number=2,
        type=label.TYPE_MESSAGE,
        type_name=".build.bazel.remote.execution.v2.OutputFile",
        label=label.LABEL_REPEATED,
    )
    result.field.add(
        name="output_directories",
        number=3,
        type=label.TYPE_MESSAGE,
        type_name=".build.bazel.remote.execution.v2.OutputFile",
        label=label.LABEL_REPEATED,
    )
    result.field.add(name="exit_code", number=4, type=label.TYPE_INT32, label=label.LABEL_OPTIONAL)
    result.field.add(
        name="execution_metadata",
        number=9,
        type=label.TYPE_MESSAGE,
        type_name=".build.bazel.remote.execution.v2.ExecutedActionMetadata",
        label=label.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"build.bazel.remote.execution.v2.{name}")
        )
        for name in ("Digest", "OutputFile", "ActionResult")
    }


def _digest(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).hexdigest(), len(data))


def test_encoded_entries_parse_as_action_results() -> None:
    messages = _remote_execution_messages()
    outputs = {
        "result.json": _digest(b'{"ok": true}'),
        "dist/pkg-1.0-py3-none-any.whl": _digest(b"x" * 300_000),  # multi-byte varints
        "empty": _digest(b""),
    }
    parsed = messages["ActionResult"].FromString(
        encode_action_result(outputs, worker="poetflow 1.0")
    )
    found = {f.path: (f.digest.hash, f.digest.size_bytes) for f in parsed.output_files}
    assert found == {path: (d.hash, d.size) for path, d in outputs.items()}
    assert parsed.exit_code == 0
    assert parsed.execution_metadata.worker == "poetflow 1.0"


def test_entries_written_by_protobuf_decode_and_unknown_fields_are_skipped() -> None:
    messages = _remote_execution_messages()
    message = messages["ActionResult"]()
    file = message.output_files.add(path="junit/0.xml", is_executable=True)
    file.digest.hash = "ab" * 32
    file.digest.size_bytes = 1234
    directory = message.output_directories.add(path="ignored")  # a field PoetFlow never reads
    directory.digest.hash = "cd" * 32
    message.exit_code = 3
    outputs, exit_code = decode_action_result(message.SerializeToString())
    assert outputs == {"junit/0.xml": Digest("ab" * 32, 1234)}
    assert exit_code == 3


@pytest.mark.parametrize("data", [b"\x12\x05abc", b"\x12", b"\x0f", b"\x80"])
def test_garbage_is_a_protocol_error_not_a_crash(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_action_result(data)

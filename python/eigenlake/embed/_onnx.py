"""Just enough of ONNX's protobuf encoding to read a model's weights and write a BERT graph.

The text embedder reads the packaged MiniLM weights and hands ONNX Runtime a graph of its
own (fused attention, skip-layer-norm and bias-GELU kernels), which ran 1.5x as fast as the
packaged export in benches/bench_text_embedder.py. The ``onnx`` package would do this too but
adds more to the install than the model itself, and the subset needed is small: the field
numbers below are those of ``onnx.proto`` (stable since IR version 3).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

# TensorProto.DataType values used here.
FLOAT, INT8, INT32, INT64 = 1, 3, 6, 7
_DTYPES = {FLOAT: np.float32, INT8: np.int8, INT32: np.int32, INT64: np.int64}
# AttributeProto.AttributeType values used here.
_ATTR_FLOAT, _ATTR_INT = 1, 2
# IR version 8 goes with opset 17, the newest this graph needs; any ONNX Runtime >= 1.14 reads it.
IR_VERSION = 8
CONTRIB = "com.microsoft"

# --------------------------------------------------------------------------- reading


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def fields(buf: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of one message: an int for varints, a view for everything else."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


def _packed_varints(view: memoryview) -> list[int]:
    out, pos = [], 0
    while pos < len(view):
        v, pos = _varint(view, pos)
        out.append(v)
    return out


def read_initializers(model: bytes) -> dict[str, np.ndarray]:
    """The named constant tensors of an ONNX model (float32, int8, int32, int64 only)."""
    out: dict[str, np.ndarray] = {}
    graph = next((v for n, v in fields(memoryview(model)) if n == 7), None)
    if not isinstance(graph, memoryview):
        raise ValueError("not an ONNX model: no graph")
    for number, tensor in fields(graph):
        if number != 5 or not isinstance(tensor, memoryview):  # GraphProto.initializer
            continue
        dims: list[int] = []
        dtype = name = raw = None
        floats = b""
        for n, v in fields(tensor):
            if n == 1:  # dims: packed or one varint per entry
                dims.extend(_packed_varints(v) if isinstance(v, memoryview) else [v])
            elif n == 2 and isinstance(v, int):
                dtype = v
            elif n == 8 and isinstance(v, memoryview):
                name = bytes(v).decode()
            elif n == 9 and isinstance(v, memoryview):
                raw = v
            elif n == 4 and isinstance(v, memoryview):  # float_data, packed
                floats += bytes(v)
        if name is None or dtype not in _DTYPES:
            continue
        data = raw if raw is not None else floats
        arr = np.frombuffer(data, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        out[name] = arr.reshape(dims).astype(_DTYPES[dtype], copy=True)
    return out


# --------------------------------------------------------------------------- writing


def _enc_varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 fields carry negatives as ten-byte two's complement
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _enc_varint(number << 3 | 2) + _enc_varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _enc_varint(number << 3) + _enc_varint(value)


def _str_field(number: int, text: str) -> bytes:
    return _len_field(number, text.encode())


def tensor(name: str, array: np.ndarray) -> list[bytes | memoryview]:
    """A TensorProto with the array's bytes as raw_data (little-endian), as chunks.

    The weights are most of the model's 90 MB; handing out their buffer instead of a copy
    lets ``model`` join everything once.
    """
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    code = next(c for c, t in _DTYPES.items() if array.dtype == t)
    head = b"".join(_int_field(1, d) for d in array.shape)
    head += _int_field(2, code) + _str_field(8, name)
    head += _enc_varint(9 << 3 | 2) + _enc_varint(array.nbytes)
    return [head, array.data.cast("B")]


def node(
    op: str, inputs: list[str], outputs: list[str], *, domain: str = "", **attrs: float | int
) -> bytes:
    """A NodeProto; int attributes become INT, float ones FLOAT."""
    out = b"".join(_str_field(1, i) for i in inputs)
    out += b"".join(_str_field(2, o) for o in outputs)
    out += _str_field(3, outputs[0]) + _str_field(4, op)
    for key, value in attrs.items():
        if isinstance(value, int):
            attr = _str_field(1, key) + _int_field(3, value) + _int_field(20, _ATTR_INT)
        else:
            attr = (
                _str_field(1, key)
                + _enc_varint(2 << 3 | 5)
                + struct.pack("<f", value)
                + _int_field(20, _ATTR_FLOAT)
            )
        out += _len_field(5, attr)
    if domain:
        out += _str_field(7, domain)
    return out


def value_info(name: str, elem_type: int, dims: list[str | int]) -> bytes:
    """A ValueInfoProto for a tensor; str dims are symbolic (batch, sequence)."""
    shape = b""
    for d in dims:
        dim = _str_field(2, d) if isinstance(d, str) else _int_field(1, d)
        shape += _len_field(1, dim)
    tensor_type = _int_field(1, elem_type) + _len_field(2, shape)
    return _str_field(1, name) + _len_field(2, _len_field(1, tensor_type))


def model(
    nodes: list[bytes],
    initializers: list[list[bytes | memoryview]],
    inputs: list[bytes],
    outputs: list[bytes],
    opsets: dict[str, int],
) -> bytes:
    """A serialised ModelProto around one graph."""
    graph: list[bytes | memoryview] = [_len_field(1, n) for n in nodes]
    graph.append(_str_field(2, "eigenlake"))
    for chunks in initializers:
        graph.append(_enc_varint(5 << 3 | 2) + _enc_varint(sum(len(c) for c in chunks)))
        graph.extend(chunks)
    graph += [_len_field(11, i) for i in inputs] + [_len_field(12, o) for o in outputs]
    head = _int_field(1, IR_VERSION) + _str_field(2, "eigenlake")
    for domain, version in opsets.items():
        head += _len_field(8, _str_field(1, domain) + _int_field(2, version))
    head += _enc_varint(7 << 3 | 2) + _enc_varint(sum(len(c) for c in graph))
    return b"".join([head, *graph])

#!/usr/bin/env python3
"""Writes small safetensors files for LTMCheckpoint's tests, using only the Python standard library.

- ``dtypes.safetensors``: one tensor per supported dtype (F16 with subnormal/inf/NaN/signed zero, BF16, F64, the
  integer types, BOOL), a zero-element tensor, ``__metadata__``, and a header padded with spaces (as the Rust writer
  does) to a multiple of 8 bytes.
- ``sharded/``: a two-shard Hugging Face checkpoint with ``model.safetensors.index.json``.

usage: make_safetensors_fixtures.py OUT_DIR
"""

import json
import os
import struct
import sys

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def write(path, tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), written in the given order."""
    header, offset, blobs = {}, 0, []
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        n = 1
        for s in shape:
            n *= s
        assert len(raw) == n * SIZES[dtype], name
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "sharded"), exist_ok=True)
    f16 = [0x3C00, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x8000, 0xC000, 0x3555, 0x8001]
    bf16 = [0x3F80, 0xBF80, 0x4049, 0x0001, 0x7F80, 0xFF80, 0x7FC0, 0x8000]
    write(os.path.join(out, "dtypes.safetensors"), [
        ("f16", "F16", [3, 4], struct.pack("<12H", *f16)),
        ("bf16", "BF16", [8], struct.pack("<8H", *bf16)),
        ("f32", "F32", [2, 2], struct.pack("<4f", 1.0, -2.5, 3.0e-40, 1e30)),
        ("f64", "F64", [3], struct.pack("<3d", 1.0 / 3.0, -1e300, 5e-324)),
        ("i64", "I64", [3], struct.pack("<3q", -(2 ** 63), 0, 2 ** 63 - 1)),
        ("i32", "I32", [2], struct.pack("<2i", -(2 ** 31), 2 ** 31 - 1)),
        ("i16", "I16", [2], struct.pack("<2h", -32768, 32767)),
        ("i8", "I8", [2], struct.pack("<2b", -128, 127)),
        ("u8", "U8", [3], bytes([0, 1, 255])),
        ("bool", "BOOL", [2], bytes([1, 0])),
        ("empty", "F32", [0, 4], b""),
    ], metadata={"format": "pt", "note": "ltm-bench test fixture"})

    # Shard 1 holds a, b; shard 2 holds c. Tensor order inside a shard differs from offset order on purpose.
    a = struct.pack("<6f", *[0.25 * i for i in range(6)])
    b = struct.pack("<4e", 1.0, -1.0, 0.5, 65504.0)
    c = struct.pack("<3f", 9.0, 8.0, 7.0)
    shard1, shard2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    write(os.path.join(out, "sharded", shard1), [("b.weight", "F16", [2, 2], b), ("a.weight", "F32", [2, 3], a)],
          metadata={"format": "pt"})
    write(os.path.join(out, "sharded", shard2), [("c.bias", "F32", [3], c)], metadata={"format": "pt"})
    index = {"metadata": {"total_size": len(a) + len(b) + len(c)},
             "weight_map": {"a.weight": shard1, "b.weight": shard1, "c.bias": shard2}}
    with open(os.path.join(out, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

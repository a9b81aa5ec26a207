#!/usr/bin/env python3
"""Independent reference for LTMCheckpoint's safetensors reader, using only the Python standard library.

For each file: the header length, ``__metadata__``, and per tensor its dtype, shape, data offsets, FNV-1a (64-bit)
of its raw bytes (pins every element exactly), the first values widened to float (F16 via struct's ``e``, BF16 by
shifting into the high half of a float32) and the float64 sum / absolute sum of its finite elements, in order.
Several files may be given (for example the shards of one checkpoint); they are keyed by their label.

usage: dump_safetensors.py OUT.json LABEL=FILE [LABEL=FILE ...]
"""

import json
import math
import struct
import sys

FORMATS = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B",
           "BOOL": "?", "BF16": None}
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def json_float(v):
    """See dump_torch_checkpoint.py: exact decimal strings, "nan"/"inf"/"-inf" for non-finite values."""
    if v != v:
        return "nan"
    return repr(float(v))


def values(dtype, raw):
    if dtype == "BF16":
        return [struct.unpack("<f", b"\x00\x00" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    return [float(v[0]) for v in struct.iter_unpack("<" + FORMATS[dtype], raw)]


def dump(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {"header_length": n, "file_size": len(blob), "metadata": header.pop("__metadata__", None), "tensors": {}}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        raw = data[begin:end]
        assert len(raw) == math.prod(e["shape"]) * SIZES[e["dtype"]], name
        vals = values(e["dtype"], raw)
        out["tensors"][name] = {
            "dtype": e["dtype"],
            "shape": e["shape"],
            "data_offsets": [begin, end],
            "fnv1a64": f"{fnv1a64(raw):016x}",
            "first": [json_float(v) for v in vals[:6]],
            "sum": json_float(sum(v for v in vals if math.isfinite(v))),
            "abs_sum": json_float(sum(abs(v) for v in vals if math.isfinite(v))),
        }
    return out


def main():
    out_path, specs = sys.argv[1], sys.argv[2:]
    result = {}
    for spec in specs:
        label, path = spec.split("=", 1)
        result[label] = dump(path)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()

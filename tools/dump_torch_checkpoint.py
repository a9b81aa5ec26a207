#!/usr/bin/env python3
"""Independent reference for LTMCheckpoint's torch.save reader, using only the Python standard library.

Reads a torch.save zip archive (``<name>/data.pkl`` + ``<name>/data/<key>`` storages) with ``zipfile`` and a
``pickle.Unpickler`` whose ``find_class`` allows only the handful of globals torch.save writes for tensors and plain
containers, and whose ``persistent_load`` turns storages into raw bytes. No torch needed, nothing executed.

The output JSON mirrors the pickle tree so the Swift test can walk both side by side:

  null | {"bool": b} | {"int": n} | {"float": x} | {"str": s} | {"bytes": hex}
  {"list": [...]} | {"tuple": [...]} | {"dict": [[key, value], ...]}   (insertion order kept)
  {"tensor": {"dtype", "shape", "numel", "fnv1a64", "first", "sum", "abs_sum"}}

Floats (the "float" scalars, "first", "sum", "abs_sum") are written as exact decimal strings (see json_float).

``fnv1a64`` is FNV-1a (64-bit) over the tensor's contiguous row-major little-endian bytes in its own dtype, so it
pins every element exactly; ``first`` (up to 6 values, non-finite ones as "nan"/"inf"/"-inf") and the float64 ``sum``/``abs_sum`` of
the finite elements (row-major order, F16/BF16 widened first) are there for readable failures.

usage: dump_torch_checkpoint.py CKPT.pt OUT.json [--label NAME]
"""

import argparse
import collections
import json
import math
import pickle
import struct
import sys
import zipfile

# torch storage class -> (safetensors dtype name, struct format, element size)
STORAGES = {
    "FloatStorage": ("F32", "f", 4),
    "HalfStorage": ("F16", "e", 2),
    "BFloat16Storage": ("BF16", None, 2),
    "DoubleStorage": ("F64", "d", 8),
    "LongStorage": ("I64", "q", 8),
    "IntStorage": ("I32", "i", 4),
    "ShortStorage": ("I16", "h", 2),
    "CharStorage": ("I8", "b", 1),
    "ByteStorage": ("U8", "B", 1),
    "BoolStorage": ("BOOL", "?", 1),
}

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


class StorageType:
    def __init__(self, name):
        self.name = name


class Storage:
    def __init__(self, dtype, fmt, size, raw):
        self.dtype, self.fmt, self.size, self.raw = dtype, fmt, size, raw


class Tensor:
    """Materialised row-major copy of a strided view: dtype, shape and raw little-endian bytes."""

    def __init__(self, storage, offset, shape, stride):
        self.dtype, self.fmt, self.size = storage.dtype, storage.fmt, storage.size
        self.shape = list(shape)
        numel = 1
        for s in shape:
            numel *= s
        self.numel = numel
        es = storage.size
        out = bytearray(numel * es)
        if numel:
            index = [0] * len(shape)
            for n in range(numel):
                pos = offset + sum(i * st for i, st in zip(index, stride))
                if (pos + 1) * es > len(storage.raw):
                    raise ValueError("view reaches past its storage")
                out[n * es:(n + 1) * es] = storage.raw[pos * es:(pos + 1) * es]
                for d in reversed(range(len(shape))):
                    index[d] += 1
                    if index[d] < shape[d]:
                        break
                    index[d] = 0
        self.raw = bytes(out)

    def values(self):
        es = self.size
        if self.dtype == "BF16":
            return [struct.unpack("<f", b"\x00\x00" + self.raw[i:i + 2])[0] for i in range(0, len(self.raw), es)]
        return [v[0] for v in struct.iter_unpack("<" + self.fmt, self.raw)]


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    return Tensor(storage, offset, size, stride)


def rebuild_parameter(data, requires_grad, hooks):
    return data


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, f, archive, prefix):
        super().__init__(f)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return rebuild_parameter
        if module == "torch" and name in STORAGES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")

    def persistent_load(self, pid):
        kind, stype, key, _location, numel = pid
        assert kind == "storage"
        dtype, fmt, size = STORAGES[stype.name]
        raw = self.archive.read(f"{self.prefix}/data/{key}")
        assert len(raw) == numel * size, (key, len(raw), numel)
        return Storage(dtype, fmt, size, raw)


def json_float(v):
    """A float as its shortest round-trip decimal string (``repr``), and non-finite values as "nan", "inf", "-inf".

    Strings, not JSON numbers: JSON has no literal for non-finite values, and some JSON readers (Foundation's on
    Linux among them) round the last digit of long decimals, while Swift's ``Double(String)`` parses exactly.
    """
    if v != v:
        return "nan"
    return repr(float(v))


def encode(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": json_float(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, list):
        return {"list": [encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Tensor):
        vals = value.values()
        floats = [float(v) for v in vals]
        return {"tensor": {
            "dtype": value.dtype,
            "shape": value.shape,
            "numel": value.numel,
            "fnv1a64": f"{fnv1a64(value.raw):016x}",
            "first": [json_float(v) for v in floats[:6]],
            "sum": json_float(sum(f for f in floats if math.isfinite(f))),
            "abs_sum": json_float(sum(abs(f) for f in floats if math.isfinite(f))),
        }}
    raise TypeError(f"cannot encode {type(value)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--label", default=None, help="file name recorded in the JSON (default: the path given)")
    args = ap.parse_args()
    with zipfile.ZipFile(args.checkpoint) as z:
        pkls = [n for n in z.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        assert len(pkls) == 1, pkls
        prefix = pkls[0].split("/")[0]
        byteorder = z.read(f"{prefix}/byteorder").decode() if f"{prefix}/byteorder" in z.namelist() else None
        assert byteorder in (None, "little"), byteorder
        with z.open(pkls[0]) as f:
            obj = SafeUnpickler(f, z, prefix).load()
    out = {"file": args.label or args.checkpoint, "archive_name": prefix, "value": encode(obj)}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes small torch.save-format archives for LTMCheckpoint's tests, without torch.

The shared fixtures (``ltm-*/ckpt.pt``) hold only a model state dict and plain settings. Real training
checkpoints also carry AdamW state (int keys, tuples, None, 0-d ``step`` tensors), ``rng_state`` (a ByteStorage
tensor), ``nn.Parameter`` objects (``torch._utils._rebuild_parameter``), F16/BF16/integer storages, views with
offsets and non-contiguous strides, and newer torch versions may pickle with protocol 4 (FRAME, MEMOIZE,
STACK_GLOBAL, SHORT_BINUNICODE). This script reproduces those shapes with the same machinery torch.save uses:
the standard pickler, a ``persistent_id`` that returns ``('storage', <Storage class>, key, location, numel)``,
tensors reduced to ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`` and
an OrderedDict state dict carrying ``_metadata`` (hence a BUILD). Stand-in ``torch`` modules are registered
only so that the pickler can name those globals; nothing here imports the real torch.

usage: make_torch_fixtures.py OUT_DIR   (writes synthetic-p2.pt and synthetic-p4.pt)
"""

import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils

STORAGE_FORMATS = {
    "FloatStorage": "f", "HalfStorage": "e", "BFloat16Storage": "H", "DoubleStorage": "d", "LongStorage": "q",
    "IntStorage": "i", "ShortStorage": "h", "CharStorage": "b", "ByteStorage": "B", "BoolStorage": "?",
}
for _name in STORAGE_FORMATS:
    _cls = type(_name, (), {"__module__": "torch"})
    setattr(torch, _name, _cls)


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in only")


def _rebuild_parameter(*args):
    raise RuntimeError("stand-in only")


for _fn in (_rebuild_tensor_v2, _rebuild_parameter):
    _fn.__module__ = "torch._utils"
    setattr(torch_utils, _fn.__name__, _fn)


class Storage:
    def __init__(self, kind, values, raw=None):
        self.kind = kind
        self.numel = len(values) if raw is None else len(raw) // 2
        fmt = STORAGE_FORMATS[kind]
        self.raw = raw if raw is not None else struct.pack("<%d%s" % (len(values), fmt), *values)
        self.key = None


class Tensor:
    def __init__(self, storage, shape, stride=None, offset=0):
        if stride is None:
            stride, acc = [], 1
            for s in reversed(shape):
                stride.insert(0, acc)
                acc *= s
        self.storage, self.shape, self.stride, self.offset = storage, tuple(shape), tuple(stride), offset

    def __reduce_ex__(self, protocol):
        return (torch_utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False, collections.OrderedDict()))


class Parameter:
    def __init__(self, data, requires_grad=True):
        self.data, self.requires_grad = data, requires_grad

    def __reduce_ex__(self, protocol):
        return (torch_utils._rebuild_parameter, (self.data, self.requires_grad, collections.OrderedDict()))


def bf16_bits(x):
    """Round-to-nearest-even of a float32 to bfloat16 bits."""
    (u,) = struct.unpack("<I", struct.pack("<f", x))
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF


def make_checkpoint(protocol):
    w = Storage("FloatStorage", [0.5 * i - 3.0 for i in range(12)])
    half = Storage("HalfStorage", [1.0, 2.0 ** -24, float("inf"), float("-inf"), float("nan"), -0.0, 65504.0, -2.5])
    bf = Storage("BFloat16Storage", [], raw=struct.pack("<6H", *[bf16_bits(x) for x in
                                                              (1.0, -2.0, 3.140625, 1e-3, 65536.0, -0.0)]))
    state = collections.OrderedDict()
    state["w"] = Tensor(w, [3, 4])
    state["w_t"] = Tensor(w, [4, 3], stride=[1, 4])  # transposed view of the same storage
    state["w_tail"] = Tensor(w, [2, 2], stride=[4, 1], offset=5)  # offset view: rows 1..2, cols 1..2
    state["half"] = Tensor(half, [8])
    state["bf16"] = Tensor(bf, [2, 3])
    state["double"] = Tensor(Storage("DoubleStorage", [1.0 / 3.0, -1e300, 2.5]), [3])
    state["long"] = Tensor(Storage("LongStorage", [-(2 ** 62), 0, 2 ** 62 + 7]), [3])
    state["int"] = Tensor(Storage("IntStorage", [-7, 2 ** 31 - 1]), [2, 1])
    state["short"] = Tensor(Storage("ShortStorage", [-300, 300]), [2])
    state["char"] = Tensor(Storage("CharStorage", [-128, 127]), [2])
    state["byte"] = Tensor(Storage("ByteStorage", [0, 255]), [2])
    state["mask"] = Tensor(Storage("BoolStorage", [True, False, True]), [3])
    state["scalar"] = Tensor(Storage("FloatStorage", [42.0]), [])
    state["empty"] = Tensor(Storage("FloatStorage", []), [0, 3])
    state["broadcast"] = Tensor(Storage("FloatStorage", [7.0, 8.0]), [3, 2], stride=[0, 1])
    state["param"] = Parameter(Tensor(Storage("FloatStorage", [1.5, -1.5]), [2]))
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("layers.0", {"version": 1})])

    adam_state = {}
    for pid, numel in ((0, 12), (1, 2)):
        adam_state[pid] = {
            "step": Tensor(Storage("FloatStorage", [8.0]), []),
            "exp_avg": Tensor(Storage("FloatStorage", [0.01 * i for i in range(numel)]), [numel]),
            "exp_avg_sq": Tensor(Storage("FloatStorage", [0.001 * i * i for i in range(numel)]), [numel]),
        }
    optimizer = {
        "state": adam_state,
        "param_groups": [{
            "lr": 3e-4, "betas": (0.9, 0.95), "eps": 1e-08, "weight_decay": 0.1, "amsgrad": False,
            "foreach": None, "maximize": False, "capturable": False, "differentiable": False, "fused": None,
            "params": [0, 1],
        }],
    }
    rng = Storage("ByteStorage", [(i * 37 + 11) % 256 for i in range(5056)])
    checkpoint = {
        "model": state,
        "optimizer": optimizer,
        "model_args": {"dim": 32, "n_layers": 2, "dropout": 0.0, "use_liger": True, "max_z_len": 8},
        "iter_num": 2 ** 40 + 3,
        "neg": -5,
        "big": 2 ** 63 - 1,
        "small": -(2 ** 63),
        "best_val_loss": 3.25,
        "name": "h\u00e9llo \u2713",
        "nested": [(1, 2.5), [], {}, (None,)],
        "flag": True,
        "rng_state": Tensor(rng, [5056]),
    }
    if protocol >= 3:
        # Protocol 2 can only spell bytes as a call to _codecs.encode, a global the reader refuses, as torch.save's
        # default protocol never needs it for tensors; protocols 3+ have SHORT_BINBYTES/BINBYTES.
        checkpoint["blob"] = b"\x00\x01\xff"
    return checkpoint


def write_archive(path, obj, protocol, name="archive"):
    storages = []

    def persistent_id(o):
        if isinstance(o, Storage):
            if o.key is None:
                o.key = str(len(storages))
                storages.append(o)
            return ("storage", getattr(torch, o.kind), o.key, "cpu", o.numel)
        return None

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=protocol)
    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    def entry(entry_name, data, deflate=False):
        # A fixed timestamp keeps the archive byte-for-byte reproducible.
        info = zipfile.ZipInfo(f"{name}/{entry_name}", date_time=(2025, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        z.writestr(info, data)

    with zipfile.ZipFile(path, "w") as z:
        # Protocol 4 archive: deflate the pickle, so the reader's decompression path is exercised too.
        entry("data.pkl", buf.getvalue(), deflate=protocol >= 4)
        entry(".format_version", b"1")
        entry("byteorder", b"little")
        for s in storages:
            entry(f"data/{s.key}", s.raw)
        entry("version", b"3\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_archive(os.path.join(out, "synthetic-p2.pt"), make_checkpoint(2), 2)
    # A fresh object tree so storage keys are assigned again in pickling order.
    write_archive(os.path.join(out, "synthetic-p4.pt"), make_checkpoint(4), 4, name="synthetic-p4")


if __name__ == "__main__":
    main()

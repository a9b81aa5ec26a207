#!/usr/bin/env python3
"""Writes one tiny random GPT-2 (vocab 300, n_embd 16, 2 layers, 2 heads, 64 positions) in the checkpoint layouts
the registry must accept, for LTMModelsTests:

- ``bin/``: ``pytorch_model.bin`` as transformers' ``save_pretrained`` writes it (a torch.save zip, keys prefixed
  ``transformer.``, ``lm_head.weight`` sharing the storage of ``wte``, the old ``attn.bias`` mask buffers).
- ``sharded/``: bare keys (the hub layout) in two safetensors shards plus ``model.safetensors.index.json``.
- ``expected.json``: token ids and the logits of a numpy (float64) reference forward, an implementation independent
  of the Swift one, written from the transformers GPT-2 equations (pre-LN, gelu_new, tied output).

Only the standard library and numpy are needed (the torch.save writer is ``make_torch_fixtures.py``'s, which
imitates torch's pickling without importing torch).  usage: make_gpt2_format_fixtures.py OUT_DIR
"""

import collections
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_safetensors_fixtures import write as write_safetensors  # noqa: E402
from make_torch_fixtures import Storage, Tensor, write_archive  # noqa: E402

V, D, L, H, P = 300, 16, 2, 2, 64
CONFIG = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_embd": D, "n_layer": L,
    "n_head": H, "n_positions": P, "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
    "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
    "tie_word_embeddings": True, "bos_token_id": 50256, "eos_token_id": 50256,
}


def weights(rng):
    w = collections.OrderedDict()
    w["wte.weight"] = rng.normal(0, 0.5, (V, D))
    w["wpe.weight"] = rng.normal(0, 0.3, (P, D))
    for i in range(L):
        p = f"h.{i}."
        w[p + "ln_1.weight"] = 1 + rng.normal(0, 0.2, D)
        w[p + "ln_1.bias"] = rng.normal(0, 0.2, D)
        w[p + "attn.c_attn.weight"] = rng.normal(0, 0.4, (D, 3 * D))
        w[p + "attn.c_attn.bias"] = rng.normal(0, 0.1, 3 * D)
        w[p + "attn.c_proj.weight"] = rng.normal(0, 0.4, (D, D))
        w[p + "attn.c_proj.bias"] = rng.normal(0, 0.1, D)
        w[p + "ln_2.weight"] = 1 + rng.normal(0, 0.2, D)
        w[p + "ln_2.bias"] = rng.normal(0, 0.2, D)
        w[p + "mlp.c_fc.weight"] = rng.normal(0, 0.4, (D, 4 * D))
        w[p + "mlp.c_fc.bias"] = rng.normal(0, 0.1, 4 * D)
        w[p + "mlp.c_proj.weight"] = rng.normal(0, 0.4, (4 * D, D))
        w[p + "mlp.c_proj.bias"] = rng.normal(0, 0.1, D)
    w["ln_f.weight"] = 1 + rng.normal(0, 0.2, D)
    w["ln_f.bias"] = rng.normal(0, 0.2, D)
    return collections.OrderedDict((k, v.astype(np.float32)) for k, v in w.items())


def reference_logits(w, ids):
    w = {k: v.astype(np.float64) for k, v in w.items()}

    def ln(x, g, b):
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-5) * g + b

    t = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][:t]
    dh = D // H
    for i in range(L):
        p = f"h.{i}."
        qkv = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]) @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, -1)
        o = np.zeros_like(q)
        for h in range(H):
            s = q[:, h * dh:(h + 1) * dh] @ k[:, h * dh:(h + 1) * dh].T / np.sqrt(dh)
            s = s + np.triu(np.full((t, t), -np.inf), 1)
            s = np.exp(s - s.max(-1, keepdims=True))
            o[:, h * dh:(h + 1) * dh] = (s / s.sum(-1, keepdims=True)) @ v[:, h * dh:(h + 1) * dh]
        x = x + o @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        hid = ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"]) @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        hid = 0.5 * hid * (1 + np.tanh(np.sqrt(2 / np.pi) * (hid + 0.044715 * hid ** 3)))
        x = x + hid @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T


def main():
    out = sys.argv[1]
    w = weights(np.random.default_rng(20261123))
    ids = [int(i) for i in np.random.default_rng(7).integers(0, V, 40)]

    os.makedirs(os.path.join(out, "bin"), exist_ok=True)
    state = collections.OrderedDict()
    wte_storage = None
    for k, v in w.items():
        storage = Storage("FloatStorage", v.ravel().tolist())
        if k == "wte.weight":
            wte_storage = storage
        state["transformer." + k] = Tensor(storage, list(v.shape))
    for i in range(L):  # the causal-mask buffers older transformers saved
        state[f"transformer.h.{i}.attn.bias"] = Tensor(Storage("FloatStorage", [1.0] * 16), [1, 1, 4, 4])
    state["lm_head.weight"] = Tensor(wte_storage, [V, D])  # tied: the same storage as wte
    write_archive(os.path.join(out, "bin", "pytorch_model.bin"), state, 2)

    os.makedirs(os.path.join(out, "sharded"), exist_ok=True)
    names = list(w)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    for shard, keys in shards.items():
        write_safetensors(os.path.join(out, "sharded", shard),
                          [(k, "F32", list(w[k].shape), w[k].tobytes()) for k in keys], {"format": "pt"})
        weight_map.update({k: shard for k in keys})
    with open(os.path.join(out, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.nbytes for v in w.values())}, "weight_map": weight_map}, f, indent=1)

    for d in ("bin", "sharded"):
        with open(os.path.join(out, d, "config.json"), "w") as f:
            json.dump(CONFIG, f, indent=1)
    logits = reference_logits(w, ids)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"ids": ids, "logits": [[round(float(x), 7) for x in row] for row in logits]}, f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Golden MAUVE features for LTMModelsTests (GPT2FeaturesTests): the final hidden state after ``ln_f`` at the last
token of each text, computed by an independent numpy float64 GPT-2 forward (written from the transformers
``GPT2Model`` equations: learned positions, pre-LayerNorm blocks, causal attention, gelu_new MLP, final LayerNorm)
from the ``gpt2-tiny`` fixture weights. This is what mauve-text's featurizer returns (``hidden_states[-1]`` at the
last real token), so no torch or transformers is needed.

Texts are token ids taken from ``zero-shot-pipeline/wikitext-test.jsonl`` (so no tokenizer is involved): a few lines
as they are (empty lines included, which the featurizer must drop and count), one line cut to a single token, and
one long text made by concatenating lines past 1024 tokens, which must be truncated to its first 1024.

Only numpy and the standard library are used.  usage: make_featurizer_goldens.py SHARED_DIR OUT.json
"""

import json
import os
import struct
import sys

import numpy as np

MAX_LENGTH = 1024


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"]).astype(np.float64)
    return out


def last_hidden(w, cfg, ids):
    eps, heads = cfg["layer_norm_epsilon"], cfg["n_head"]

    def ln(x, g, b):
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + eps) * g + b

    t = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][:t]
    d = x.shape[1]
    dh = d // heads
    mask = np.triu(np.full((t, t), -np.inf), 1)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        qkv = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]) @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, -1)
        o = np.zeros_like(q)
        for h in range(heads):
            s = q[:, h * dh:(h + 1) * dh] @ k[:, h * dh:(h + 1) * dh].T / np.sqrt(dh) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            o[:, h * dh:(h + 1) * dh] = (s / s.sum(-1, keepdims=True)) @ v[:, h * dh:(h + 1) * dh]
        x = x + o @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        hid = ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"]) @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        hid = 0.5 * hid * (1 + np.tanh(np.sqrt(2 / np.pi) * (hid + 0.044715 * hid ** 3)))
        x = x + hid @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, w["ln_f.weight"], w["ln_f.bias"])[-1]


def main():
    shared, out = sys.argv[1], sys.argv[2]
    fixture = os.path.join(shared, "fixtures", "gpt2-tiny")
    cfg = json.load(open(os.path.join(fixture, "config.json")))
    w = load_safetensors(os.path.join(fixture, "model.safetensors"))
    w = {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in w.items()}
    lines = [json.loads(l)["ids"] for l in open(os.path.join(shared, "fixtures", "zero-shot-pipeline", "wikitext-test.jsonl"))]
    texts = [lines[0], lines[1], lines[3], lines[2], lines[4][:1], lines[11], lines[12]]
    long_text = []
    for ids in lines[3:]:
        long_text += ids
        if len(long_text) > MAX_LENGTH + 50:
            break
    texts.append(long_text)
    kept = [i for i, t in enumerate(texts) if t]
    feats = [last_hidden(w, cfg, texts[i][:MAX_LENGTH]).tolist() for i in kept]
    with open(out, "w") as f:
        json.dump({"source": "numpy float64 GPT-2 forward of gpt2-tiny; ln_f output at the last token (truncated to 1024)",
                   "max_length": MAX_LENGTH, "texts": texts, "kept_indices": kept,
                   "dropped_empty": len(texts) - len(kept),
                   "truncated": sum(1 for t in texts if len(t) > MAX_LENGTH), "features": feats}, f)
        f.write("\n")


if __name__ == "__main__":
    main()

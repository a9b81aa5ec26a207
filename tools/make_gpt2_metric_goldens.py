#!/usr/bin/env python3
"""Goldens for the two GPT-2 measurements behind `ltm-bench mauve`, from transformers itself on gpt2-tiny.

1. MAUVE features (Tests/LTMModelsTests/Fixtures/featurizer/expected.json, GPT2FeaturesTests): what mauve-text's
   ``featurize_tokens_from_model`` returns, the last element of ``hidden_states`` of ``AutoModel`` (GPT2Model: the
   output of ``ln_f``) at the last token of each text, the text first cut to its first 1024 tokens. Texts are token
   ids from ``zero-shot-pipeline/wikitext-test.jsonl`` (no tokenizer involved): a few lines as they are (empty lines
   included, which the featurizer must drop and count), one line cut to a single token, and one text made by
   concatenating lines past 1024 tokens.
2. Generative perplexity (Tests/LTMHarnessTests/Fixtures/generative-perplexity.json, MauveGenerationTests): the
   scorer's NLL of each continuation given its prefix, from ``GPT2LMHeadModel`` logits of prefix + continuation
   (log-softmax in float64), aggregated token-weighted (exp(Σ NLL / Σ n)) and as the mean over samples of exp(mean
   NLL); an empty continuation is left out of both.

usage: make_gpt2_metric_goldens.py SHARED_DIR [REPO_ROOT]   (torch, transformers, in a throwaway venv)
"""

import json
import math
import os
import sys

import torch
import transformers

MAX_LENGTH = 1024


def pipeline_lines(shared):
    path = os.path.join(shared, "fixtures", "zero-shot-pipeline", "wikitext-test.jsonl")
    return [json.loads(line)["ids"] for line in open(path)]


def features(model, lines):
    texts = [lines[0], lines[1], lines[3], lines[2], lines[4][:1], lines[11], lines[12]]
    long_text = []
    for ids in lines[3:]:
        long_text += ids
        if len(long_text) > MAX_LENGTH + 50:
            break
    texts.append(long_text)
    kept = [i for i, t in enumerate(texts) if t]
    rows = []
    with torch.no_grad():
        for i in kept:
            out = model.transformer(input_ids=torch.tensor([texts[i][:MAX_LENGTH]]), output_hidden_states=True,
                                    return_dict=True)
            rows.append(out.hidden_states[-1][0, -1].double().tolist())
    return {"source": f"transformers {transformers.__version__} GPT2Model hidden_states[-1] (ln_f output) at the "
                      "last token, texts cut to 1024 tokens (mauve-text featurize_tokens_from_model)",
            "generator": "tools/make_gpt2_metric_goldens.py", "max_length": MAX_LENGTH, "texts": texts,
            "kept_indices": kept, "dropped_empty": len(texts) - len(kept),
            "truncated": sum(1 for t in texts if len(t) > MAX_LENGTH), "features": rows}


def generative_perplexity(model, lines):
    source = [ids for ids in lines if len(ids) >= 40]
    prefixes = [source[0][:20], source[1][:20], source[2][:7], source[3][:20], source[4][:30]]
    continuations = [source[5][:20], source[6][:20], source[7][:33], [], source[8][:1]]
    nll = []
    with torch.no_grad():
        for prefix, continuation in zip(prefixes, continuations):
            if not continuation:
                nll.append(None)
                continue
            ids = torch.tensor([prefix + continuation])
            logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
            positions = range(len(prefix), len(prefix) + len(continuation))
            nll.append(-sum(logp[p - 1, ids[0, p]].item() for p in positions))
    scored = [(n, len(c)) for n, c in zip(nll, continuations) if c]
    tokens = sum(k for _, k in scored)
    return {"source": f"transformers {transformers.__version__} GPT2LMHeadModel on gpt2-tiny",
            "generator": "tools/make_gpt2_metric_goldens.py", "prefixes": prefixes, "continuations": continuations,
            "nll": nll, "token_weighted": math.exp(sum(n for n, _ in scored) / tokens),
            "mean_of_samples": sum(math.exp(n / k) for n, k in scored) / len(scored), "scored_tokens": tokens}


def write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)
        f.write("\n")
    print(f"wrote {path}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    shared = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    torch.set_num_threads(1)
    model = transformers.GPT2LMHeadModel.from_pretrained(os.path.join(shared, "fixtures", "gpt2-tiny")).eval()
    lines = pipeline_lines(shared)
    write(os.path.join(root, "Tests", "LTMModelsTests", "Fixtures", "featurizer", "expected.json"), features(model, lines))
    write(os.path.join(root, "Tests", "LTMHarnessTests", "Fixtures", "generative-perplexity.json"),
          generative_perplexity(model, lines))


if __name__ == "__main__":
    main()

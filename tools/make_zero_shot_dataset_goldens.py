#!/usr/bin/env python3
"""Pipeline goldens for the zero-shot columns LAMBADA, AG News, PubMed and ArXiv (#15), from the reference code.

For each dataset, the examples are read as the reference loaders read them, detokenized with the MDLM authors'
functions, tokenized with the GPT-2 fast tokenizer the MDLM code uses (transformers ``GPT2TokenizerFast`` over the
shared ``vocab.json``/``merges.txt``, ``add_special_tokens=False``, an EOS after each example), and cut into blocks by
the authors' own grouping functions through ``datasets.Dataset.map(batched=True)`` (1000 rows per batch, one process):

- readers: LAMBADA by the authors' ``get_lambada_test_dataset`` (MDLM ``dataloader.py``, executed with ``requests.get``
  answering from the local file); AG News and scientific_papers by the Hugging Face loaders' generator logic, which
  ``datasets`` 4+ no longer runs (loading scripts are refused), re-stated here: ag_news ``" ".join((title,
  description))`` over ``csv.reader(f, quotechar='"', delimiter=",", quoting=csv.QUOTE_ALL, skipinitialspace=True)``;
  scientific_papers ``"\\n".join(d["article_text"])`` per JSON line of ``<name>-dataset/val.txt``;
- detokenizers: ``lambada_detokenizer`` and ``scientific_papers_detokenizer`` out of MDLM ``dataloader.py`` (AG News
  has none);
- blocks: layout ``mdlm`` by MDLM ``dataloader.py::_group_texts`` (block_size 1024, BOS = EOS = 50256); layout ``ltm``
  by the ``group_texts`` nested in the LTM authors' ``sampling/zero-shot-ppl/utils_ppl_0shot_update.py::get_dataset``
  (b6afdcc), block_size 1024.

PubMed and ArXiv are too large to share: the script writes small files in the distribution's layout (JSON lines with
``article_id``, ``article_text``, ``abstract_text``, ``section_names``) under
``Tests/LTMTasksTests/Fixtures/scientific-papers/``, with the constructs the detokenizers rewrite and an article whose
``article_text`` is empty.

The golden holds, per dataset: example and token counts, SHA-256 per chunk of 64 examples of the raw texts, the
detokenized texts (each text's UTF-8 followed by one 0xFF byte) and the ids (int32 little-endian, each example's ids
followed by -1), and per layout the block count, the SHA-256 of all blocks (int32 little-endian) and the first 64
tokens of block 0.

Runs in a throwaway venv with torch, transformers, datasets and requests (``pip install torch transformers datasets
requests``). The reference checkouts are passed in (``git clone https://github.com/kuleshov-group/mdlm``;
``git clone https://github.com/hohooio823/Latent-LLM && git -C Latent-LLM checkout b6afdcc``).

usage: make_zero_shot_dataset_goldens.py MDLM_CHECKOUT LATENT_LLM_CHECKOUT_AT_b6afdcc SHARED_DIR REPO_ROOT
"""

import ast
import csv
import hashlib
import itertools
import json
import os
import random
import struct
import subprocess
import sys
import types

import datasets
import requests
import torch
from transformers import GPT2TokenizerFast

EOS = 50256
CHUNK = 64
FIXTURES = "Tests/LTMTasksTests/Fixtures"


def git_head(checkout):
    return subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def top_level_functions(path, names, namespace):
    """Executes only the named top-level function definitions of `path` in `namespace`."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    assert {f.name for f in functions} == set(names), f"{path} lacks {set(names) - {f.name for f in functions}}"
    exec(compile(ast.Module(body=functions, type_ignores=[]), path, "exec"), namespace)
    return namespace


def ltm_group_texts(latent_checkout, block_size):
    """The `group_texts` nested in the LTM authors' get_dataset, with its closure's block_size."""
    path = os.path.join(latent_checkout, "sampling/zero-shot-ppl/utils_ppl_0shot_update.py")
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    outer = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_dataset")
    inner = next(n for n in outer.body if isinstance(n, ast.FunctionDef) and n.name == "group_texts")
    namespace = {"chain": itertools.chain, "block_size": block_size}
    exec(compile(ast.Module(body=[inner], type_ignores=[]), path, "exec"), namespace)
    return namespace["group_texts"]


def local_requests(path):
    """`requests` whose get() answers from a local file through requests' own Response (so iter_lines is real)."""
    def get(url, stream=False):
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.raw = open(path, "rb")
        return response
    return types.SimpleNamespace(get=get)


def ag_news_texts(path):
    with open(path, encoding="utf-8") as csv_file:
        reader = csv.reader(csv_file, quotechar='"', delimiter=",", quoting=csv.QUOTE_ALL, skipinitialspace=True)
        return [" ".join((title, description)) for _label, title, description in reader]


def scientific_papers_texts(path):
    with open(path, encoding="utf-8") as f:
        return ["\n".join(json.loads(line)["article_text"]) for line in f]


def write_scientific_papers(root, name, seed):
    """A small val.txt in the distribution's layout, with what the wt and lm1b detokenizers rewrite."""
    rng = random.Random(seed)
    words = ("cell protein model data result method study patient energy field quantum temperature sample effect "
             "analysis rate group level function system").split()
    pieces = [" @-@ ", " @,@ ", " @.@ ", " , ", " . ", " ; ", " : ", " ( x ) ", " [ 1 ] ", " \" quoted \" ",
              " 's ", " @xmath0 ", " \u00b0 ", " = = ", " ? ", " ! ", " n't ", " $ 5 ", " http : / / a.org "]
    records = []
    for i in range(9):
        paragraphs = []
        for _ in range(rng.randint(4, 9)):
            tokens = [rng.choice(words) + (rng.choice(pieces) if rng.random() < 0.3 else " ") for _ in range(rng.randint(20, 60))]
            paragraphs.append("".join(tokens).strip() + " .")
        if i == 4:
            paragraphs = []  # an article with no text: the loader yields "", which still gets its EOS
        records.append({"article_id": f"{name}-{i}", "article_text": paragraphs,
                        "abstract_text": ["<S> a short abstract . </S>"], "section_names": ["introduction", "results"]})
    folder = os.path.join(root, FIXTURES, "scientific-papers", f"{name}-dataset")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "val.txt")
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return path


def chunk_hashes(items, encode):
    out = []
    for start in range(0, len(items), CHUNK):
        h = hashlib.sha256()
        for item in items[start:start + CHUNK]:
            h.update(encode(item))
        out.append(h.hexdigest())
    return out


def text_bytes(text):
    return text.encode("utf-8") + b"\xff"


def ids_bytes(ids):
    return struct.pack(f"<{len(ids) + 1}i", *ids, -1)


def blocks_summary(ids_with_eos, group):
    dataset = datasets.Dataset.from_dict({"input_ids": ids_with_eos})
    grouped = dataset.map(group, batched=True, remove_columns=dataset.column_names, load_from_cache_file=False)
    blocks = [list(map(int, b)) for b in grouped["input_ids"]]
    assert all(len(b) == 1024 for b in blocks)
    flat = [t for b in blocks for t in b]
    return {"blocks": len(blocks), "sha256_int32le_blocks": hashlib.sha256(struct.pack(f"<{len(flat)}i", *flat)).hexdigest(),
            "first_block_head": blocks[0][:64] if blocks else []}


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    mdlm, latent, shared, root = sys.argv[1:]
    dataloader = os.path.join(mdlm, "dataloader.py")
    reference = top_level_functions(
        dataloader, ["wt_detokenizer", "lm1b_detokenizer", "lambada_detokenizer", "scientific_papers_detokenizer",
                     "get_lambada_test_dataset", "_group_texts"],
        {"re": __import__("re"), "json": json, "datasets": datasets, "itertools": itertools, "torch": torch,
         "requests": local_requests(os.path.join(shared, "data/lambada/lambada_test.jsonl"))})
    tokenizer = GPT2TokenizerFast.from_pretrained(os.path.join(shared, "data/gpt2"))
    assert tokenizer("hello world", add_special_tokens=False)["input_ids"] == [31373, 995] and tokenizer.eos_token_id == EOS
    layouts = {
        "mdlm": lambda batch: reference["_group_texts"](batch, block_size=1024, bos=EOS, eos=EOS),
        "ltm": ltm_group_texts(latent, 1024),
    }
    lambada = [row["text"] for row in reference["get_lambada_test_dataset"]()]
    sources = {
        "lambada": ("shared", "lambada/lambada_test.jsonl", lambada, reference["lambada_detokenizer"]),
        "ag_news": ("shared", "ag_news/test.csv", ag_news_texts(os.path.join(shared, "data/ag_news/test.csv")), None),
    }
    for name, seed in [("pubmed", 1), ("arxiv", 2)]:
        path = write_scientific_papers(root, name, seed)
        sources[name] = ("fixtures", f"{name}-dataset/val.txt", scientific_papers_texts(path),
                         reference["scientific_papers_detokenizer"])

    out = {"mdlm_commit": git_head(mdlm), "latent_llm_commit": git_head(latent), "chunk": CHUNK, "datasets": {}}
    for name, (data_dir, file, raw, detokenizer) in sources.items():
        detok = [detokenizer(t) for t in raw] if detokenizer else list(raw)
        ids = tokenizer(detok, add_special_tokens=False)["input_ids"]
        with_eos = [list(x) + [EOS] for x in ids]
        out["datasets"][name] = {
            "data_dir": data_dir, "file": file, "examples": len(raw), "tokens_without_eos": sum(map(len, ids)),
            "raw_chunks": chunk_hashes(raw, text_bytes), "detok_chunks": chunk_hashes(detok, text_bytes),
            "ids_chunks": chunk_hashes(ids, ids_bytes),
            "layouts": {layout: blocks_summary(with_eos, group) for layout, group in layouts.items()},
        }
        print(name, len(raw), "examples", {k: v["blocks"] for k, v in out["datasets"][name]["layouts"].items()})
    with open(os.path.join(root, FIXTURES, "zero-shot-datasets.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

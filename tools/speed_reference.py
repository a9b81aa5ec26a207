#!/usr/bin/env python3
"""The PyTorch side of tools/compare_speed.sh: the same work as ltm-bench, done the way users do it today.

  gpt2 CKPT WIKI_TEST_RAW : a whole process: import torch+transformers, load the checkpoint, read and detokenize
                            WikiText-2 test (MDLM's wt_detokenizer rules), tokenize with GPT2TokenizerFast, append
                            EOS per line, cut the first 2 blocks of 1024 tokens (the `ltm` protocol) and sum the NLL
                            of each under torch.no_grad(). Prints the per-block NLL sums.
  mauve                   : mauve-text 0.4.0's compute_mauve (device -1, defaults) on 5000 + 5000 features of 1280
                            dims with the spectrum `ltm-bench bench --mauve` uses; prints the compute seconds only.
Run inside the throwaway venv that compare_speed.sh makes; nothing here is a project dependency.
"""
import sys
import time


def wt_detokenizer(s):
    # MDLM dataloader.py wt_detokenizer (the rules ltm-bench's `wikitext` detokenizer implements).
    s = s.replace("s '", "s'")
    import re
    s = re.sub(r"/' [0-9]/", r"/'[0-9]/", s)
    s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    s = s.replace(" : ", ": ").replace(" ; ", "; ").replace(" . ", ". ").replace(" ! ", "! ").replace(" ? ", "? ")
    s = s.replace(" , ", ", ")
    s = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)
    s = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", s)
    s = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", s)
    s = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', s)
    s = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", s)
    s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==")
    s = s.replace(" " + chr(176) + " ", chr(176)).replace(" \n", "\n").replace("\n ", "\n")
    s = s.replace(" N ", " 1 ").replace(" 's", "'s")
    return s


def gpt2(ckpt, raw):
    import torch
    import transformers
    model = transformers.GPT2LMHeadModel.from_pretrained(ckpt).eval()
    tok = transformers.GPT2TokenizerFast.from_pretrained(ckpt)
    lines = [wt_detokenizer(line) for line in open(raw, encoding="utf-8").read().splitlines(keepends=True)]
    stream = []
    for ids in tok(lines)["input_ids"]:
        stream += ids + [tok.eos_token_id]
    with torch.no_grad():
        for b in range(2):
            block = torch.tensor([stream[b * 1024:(b + 1) * 1024]])
            logits = model(block).logits[0, :-1]
            nll = torch.nn.functional.cross_entropy(logits.float(), block[0, 1:], reduction="sum")
            print(f"block {b}: nll_sum {nll.item():.4f}")


def mauve_compute():
    import numpy as np
    import mauve
    dims, rows = 1280, 5000
    sd = (1.0 + np.arange(dims)) ** -0.6
    centres = np.random.default_rng(7).standard_normal((50, dims)) * sd * 0.4

    def features(seed, shift):
        rng = np.random.default_rng(seed)
        return (centres[rng.integers(0, 50, rows)] + (rng.standard_normal((rows, dims)) + shift) * sd).astype(np.float32)

    p, q = features(1, 0.0), features(2, 0.05)
    t0 = time.perf_counter()
    out = mauve.compute_mauve(p_features=p, q_features=q, device_id=-1, verbose=False)
    print(f"mauve {out.mauve:.4f} compute_seconds {time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "gpt2":
        gpt2(sys.argv[2], sys.argv[3])
    else:
        mauve_compute()

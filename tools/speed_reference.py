#!/usr/bin/env python3
"""The PyTorch side of tools/compare_speed.sh: the same work as ltm-bench, done the way users do it today.

  gpt2 CKPT WIKI_TEST_RAW : a whole process: import torch+transformers, load the checkpoint, read and detokenize
                            WikiText-2 test (MDLM's wt_detokenizer rules, abridged: the blocks can differ from
                            ltm-bench's in a few tokens; the work timed is the same), tokenize with GPT2TokenizerFast, append
                            EOS per line, cut the first 2 blocks of 1024 tokens (the `ltm` protocol) and sum the NLL
                            of each under torch.no_grad(). Prints the per-block NLL sums.
  ltm CKPT PTB_TEST_TXT   : a whole process: import torch, load the authors' torch.save checkpoint into the decoder
                            of tools/bench_torch_fastloop.py (their modules, Liger kernels replaced by the same math in
                            plain torch), read and detokenize PTB test, tokenize, take the first 1024-token block and
                            run the authors' fast loop (`_adamVI`: num_steps AdamW steps on (mu, log_var), weights
                            left requiring grad as their eval leaves them), then the final NELBO. Prints it.
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


def ptb_detokenizer(s):
    # MDLM dataloader.py ptb_detokenizer.
    for a, b in [(" 's", "'s"), ("s ' ", "s' "), (" n't", "n't"), (" \n ", "\n"), ("\\/", "/")]:
        s = s.replace(a, b)
    for a, b in [(" 'll", "'ll"), (" 'm", "'m"), (" 've", "'ve"), (" 're", "'re"), (" 'd", "'d"), (" ,", ","),
                 (" .", "."), (" ?", "?"), (" !", "!"), (" ;", ";"), (" :", ":"), ("$ ", "$"), (" %", "%")]:
        s = s.replace(a, b)
    return s.replace("<unk>", "[unk]").replace(" n ", " N ")


def ltm(ckpt_path, ptb):
    import math
    import os
    import torch
    import transformers
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_torch_fastloop import LTM, fast_lr
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    args, config = ck["model_args"], ck["config"]
    model = LTM(args["n_layers"], dim=args["dim"], n_heads=args["n_heads"], vocab=args["vocab_size"],
                max_z_len=args["max_z_len"], window=args["window_size"], max_seq_len=args["max_seq_len"]).eval()
    names = {"feed_forward.gate_proj": "w1", "feed_forward.down_proj": "w2", "feed_forward.up_proj": "w3",
             "attention._orig_mod": "attention", "cross_attention._orig_mod": "cross_attention"}
    state = {}
    for k, v in ck["model"].items():
        for a, b in names.items():
            k = k.replace(a, b)
        state[k] = v
    model.load_state_dict(state)
    tok = transformers.GPT2TokenizerFast.from_pretrained(os.path.dirname(ckpt_path))
    stream = []
    for ids in tok([ptb_detokenizer(line.strip()) for line in open(ptb, encoding="utf-8")])["input_ids"]:
        stream += ids + [tok.eos_token_id]
    block = torch.tensor([stream[:1024]])
    x, y = block[:, :-1], block[:, 1:]
    n_z, dim, steps, lr = args["max_z_len"], args["dim"], config["num_steps"], config["fast_lr"]
    torch.manual_seed(0)
    mu = (torch.randn(1, n_z, dim) * 0.01).requires_grad_()
    log_var = (torch.randn(1, n_z, dim) * 0.1 - 5.0).requires_grad_()
    eps = torch.randn(1, n_z, dim)
    opt = torch.optim.AdamW([mu, log_var], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = fast_lr(step, lr, steps)
        opt.zero_grad(set_to_none=True)
        model.nelbo(x, y, mu, log_var, eps).backward()
        opt.step()
    with torch.no_grad():
        print(f"nelbo per token {model.nelbo(x, y, mu, log_var, eps).item() / 1023:.4f}")


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
    elif sys.argv[1] == "ltm":
        ltm(sys.argv[2], sys.argv[3])
    else:
        mauve_compute()

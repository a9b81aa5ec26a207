#!/usr/bin/env python3
"""Writes Tests/LTMReportsTests/Fixtures/report-{results,baseline}.json: a synthetic results file that exercises
every section of the HTML report (GPT-2 rows, an LTM inference-steps sweep with both bounds, a partial row)
and a baseline to compute deltas against. The numbers are made up but internally consistent: every perplexity
is the aggregation of the listed per-block NLLs. Stdlib only; rerun after changing the schema."""
import json, math, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "LTMReportsTests", "Fixtures")
TOKENS = 1023
rng = random.Random(4)


def blocks(n, nll_per_token, spread=0.04):
    return [nll_per_token * TOKENS * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def entry(model, task, nlls, examples, bound="exact", steps=None, settings=None, kl_share=None, fresh=None,
          partial=None, wall=1.0):
    tokens = TOKENS * len(nlls)
    total = sum(nlls)
    tw = math.exp(total / tokens)
    bm = sum(math.exp(n / TOKENS) for n in nlls) / len(nlls)
    e = {
        "model": model, "task": task, "split": "test", "protocol": "ltm", "bound": bound, "headline": "block_mean",
        "ppl": bm, "ppl_token_weighted": tw, "ppl_block_mean": bm, "nll_sum": total, "scored_tokens": tokens,
        "blocks": len(nlls), "examples": examples, "complete": not partial, "partial_reasons": partial or [],
        "wall_seconds": wall, "scorer_settings": settings or {},
    }
    if steps is not None:
        e["inference_steps"] = steps
    if kl_share is not None:
        e["bound_parts"] = {"nll_sum": total * (1 - kl_share), "kl_sum": total * kl_share}
    if fresh is not None:
        k, factor = fresh
        fn = [n * factor for n in nlls]
        ftotal = sum(fn)
        fbm = sum(math.exp(n / TOKENS) for n in fn) / len(fn)
        e["fresh_bound"] = {
            "ppl": fbm, "ppl_token_weighted": math.exp(ftotal / tokens), "ppl_block_mean": fbm,
            "nll_sum": ftotal * (1 - kl_share), "kl_sum": ftotal * kl_share, "samples": k,
            "stderr_nll_per_token": 0.0031 / math.sqrt(k / 16),
        }
    return e


TASKS = {"ptb": (3761, 86, 4.75), "wikitext2": (4358, 267, 3.55), "lm1b": (24321, 680, 4.25)}
LTM_SETTINGS = {"fast_lr": "0.34", "posterior_init": "0.01*N(0,1)", "elbo_samples": "1"}


def document(baseline):
    results = []
    for task, (examples, nblocks, gpt2_nll) in TASKS.items():
        partial = ["4 of 50 data files"] if task == "lm1b" else None
        results.append(entry("gpt2", task, blocks(nblocks, gpt2_nll + (0.0 if baseline else 0.0)), examples,
                             partial=partial, wall=nblocks * 1.4))
    for task, (examples, nblocks, gpt2_nll) in TASKS.items():
        sweep = [2, 4, 8, 16, 32] if task != "lm1b" and not baseline else [16]
        for steps in sweep:
            nll = gpt2_nll - 0.35 + 1.6 / steps
            if baseline:
                nll += {"ptb": 0.03, "wikitext2": -0.03, "lm1b": 0.0}[task]
            partial = ["4 of 50 data files"] if task == "lm1b" else None
            results.append(entry("ltm-small", task, blocks(nblocks, nll), examples, bound="upper", steps=steps,
                                 settings=LTM_SETTINGS, kl_share=0.06 + 0.02 * math.log2(steps) / 5,
                                 fresh=(16, 1.004), partial=partial, wall=nblocks * steps * 0.9))
    doc = {
        "schema_version": 1, "command": "zero-shot", "tool": {"name": "ltm-bench", "version": "0.1.0"},
        "run": {
            "started_at": "2026-11-23T06:00:00Z", "wall_seconds": 5120.4, "seed": 0, "threads": 2, "protocol": "ltm",
            "protocol_summary": "LTM paper: EOS after every example, no BOS, plain 1024-token blocks, remainder dropped per 1000 examples; headline = mean of per-block PPL",
            "split": "test", "data_dir": "/data/eval", "host": "bench-01", "resumed_blocks": 120,
            "os": "Debian GNU/Linux 12 (bookworm)", "blas": "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64",
        },
        "models": [
            {"id": "gpt2", "path": "/ckpt/gpt2", "family": "gpt2", "parameters": 124439808, "bound": "exact",
             "checkpoint_files": [
                 {"path": "config.json", "bytes": 665, "sha256": "10c66461e4c109db5a2196bff4bb59be30396ed8" + "0" * 24},
                 {"path": "model.safetensors", "bytes": 548105171, "sha256": "248dfc3911869ec493c76e65bf2fcf7f615828b0" + "1" * 24}]},
            {"id": "ltm-small", "path": "/ckpt/ltm-small/ckpt.pt", "family": "ltm", "parameters": 38122496, "bound": "upper",
             "checkpoint_files": [{"path": "ckpt.pt", "bytes": 152734120, "sha256": "9a3f" + "2" * 60}]},
        ],
        "tasks": [
            {"name": "ptb", "split": "test", "detokenizer": "ptb", "files": [{"path": "ptb/ptb.test.txt", "bytes": 449945, "sha256": "b2d6" + "3" * 60}],
             "examples": 3761, "tokens": 87374, "blocks_available": 86, "blocks_scored": 86, "blocks_sha256": "aa" * 32},
            {"name": "wikitext2", "split": "test", "detokenizer": "wikitext", "files": [{"path": "wikitext/wiki.test.raw", "bytes": 1290590, "sha256": "c8d0" + "4" * 60}],
             "examples": 4358, "tokens": 270438, "blocks_available": 267, "blocks_scored": 267, "blocks_sha256": "bb" * 32},
            {"name": "lm1b", "split": "test", "detokenizer": "lm1b", "files": [{"path": "lm1b/news.en.heldout-%05d-of-00050" % i, "bytes": 800000, "sha256": "%04x" % i + "5" * 60} for i in range(10, 14)],
             "examples": 24321, "tokens": 683409, "blocks_available": 680, "blocks_scored": 680, "blocks_sha256": "cc" * 32, "files_expected": 50},
        ],
        "results": results,
    }
    if baseline:
        doc["default_tolerance"] = 0.005
        for r in doc["results"]:
            if r["model"] == "ltm-small":
                r["tolerance"] = 0.02  # Monte Carlo noise of a stochastic scorer: looser than GPT-2's
    return doc


for name, baseline in [("report-results.json", False), ("report-baseline.json", True)]:
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(document(baseline), f, indent=2, sort_keys=True)
        f.write("\n")

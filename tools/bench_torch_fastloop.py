#!/usr/bin/env python3
"""Time the LTM authors' PyTorch posterior-inference ("fast") loop on the CPU.

What it measures: a plain-PyTorch (fp32, eager) re-implementation of the Latent Thought Model decoder
(docs/ltm-model-and-protocols.md §2) and of one step of the authors' fast loop
(`PosteriorOptimizer._adamVI`, §4) at the LTM-S (3 layers) and LTM-M (6 layers) shapes: dim 512, 8 heads,
N_z 24, vocab 50258, window 256, one 1024-token block (1023 inputs/targets), batch 1, random weights.
  * forward : seconds for one NELBO forward under torch.no_grad();
  * step    : seconds for one fast-loop step: forward + loss.backward() + AdamW step on (mu, log_var);
  * ratio   : step / forward.
Each is the best of --repeats timed runs after one warm-up.

Why: `ltm-bench bench --ltm` reports the same quantities (secondsPerForward, secondsPerStep) for its Swift/OpenBLAS
implementation; this script gives the reference point of the authors' own code path on the same CPU.

Faithfulness to the authors' code (model.py / optimizer.py at the official commits):
  * the model is in eval mode but its parameters keep requires_grad=True (the eval scripts never turn it off),
    so `loss.backward()` also computes (and accumulates, never zeroed) weight gradients, including the
    50258x512 tied embedding/output matrix. `--variants` times this ("weights-grad") and the variant with
    requires_grad=False ("z-only", what the doc's §4 says is needed and what ltm-bench computes);
  * self-attention is F.scaled_dot_product_attention with a dense 1024x1024 additive sliding-window mask
    (the window's sparsity is not exploited, as in the original); cross-attention is SDPA without a mask;
  * each step recomputes everything from the token embeddings (their `h` cache is reset to None every step);
  * CE is F.cross_entropy(reduction="none").sum() (their eval_mode path); KL weight 1.
Not reproduced: torch.compile of the attention modules and the Liger (Triton, GPU-only) RMSNorm/SwiGLU kernels.
Liger cannot run on a CPU; the eager modules here compute the same functions.

Usage: python3 tools/bench_torch_fastloop.py --threads 2 [--shapes S,M] [--repeats 3] [--json]
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope(x, cos, sin):
    """Interleaved-pair RoPE (llama2.c): pairs (x[2i], x[2i+1]). x: [B, S, H, hd]; cos/sin: [S, hd/2]."""
    xr, xi = x.float().reshape(x.shape[:-1] + (-1, 2)).unbind(-1)
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack([xr * cos - xi * sin, xr * sin + xi * cos], dim=-1).flatten(3).type_as(x)


class Attention(nn.Module):
    """Self-attention (sliding-window mask) or cross-attention (queries from tokens, keys/values from z_l)."""

    def __init__(self, dim, n_heads):
        super().__init__()
        self.h, self.hd = n_heads, dim // n_heads
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(dim, dim, bias=False) for _ in range(4))

    def forward(self, x, cos, sin, mask=None, z=None, cos_z=None, sin_z=None):
        b, s, _ = x.shape
        src = x if z is None else z
        q = self.wq(x).view(b, s, self.h, self.hd)
        k = self.wk(src).view(b, src.shape[1], self.h, self.hd)
        v = self.wv(src).view(b, src.shape[1], self.h, self.hd)
        q = rope(q, cos, sin)  # queries always at token positions 0..S-1
        k = rope(k, cos, sin) if z is None else rope(k, cos_z, sin_z)  # z keys at j * (max_seq_len // N_z)
        o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask)
        return self.wo(o.transpose(1, 2).reshape(b, s, -1))


class Block(nn.Module):
    def __init__(self, dim, n_heads, hidden):
        super().__init__()
        self.attention, self.cross_attention = Attention(dim, n_heads), Attention(dim, n_heads)
        self.attention_norm, self.cross_attention_norm, self.ffn_norm = RMSNorm(dim), RMSNorm(dim), RMSNorm(dim)
        self.w1, self.w2, self.w3 = (nn.Linear(dim, hidden, bias=False), nn.Linear(hidden, dim, bias=False),
                                     nn.Linear(dim, hidden, bias=False))

    def forward(self, x, cos, sin, mask, z, cos_z, sin_z):
        h = x + self.attention(self.attention_norm(x), cos, sin, mask=mask)
        h = h + self.cross_attention(self.cross_attention_norm(h), cos, sin, z=z, cos_z=cos_z, sin_z=sin_z)
        f = self.ffn_norm(h)
        return h + self.w2(F.silu(self.w1(f)) * self.w3(f))  # SwiGLU


class LTM(nn.Module):
    def __init__(self, n_layers, dim=512, n_heads=8, vocab=50258, max_z_len=24, window=256, max_seq_len=1024,
                 multiple_of=32):
        super().__init__()
        hidden = multiple_of * ((int(2 * 4 * dim / 3) + multiple_of - 1) // multiple_of)  # 1376 for dim 512
        self.n_layers, self.z_per_layer = n_layers, max_z_len // n_layers
        self.tok_embeddings = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(Block(dim, n_heads, hidden) for _ in range(n_layers))
        self.norm = RMSNorm(dim)
        self.output = nn.Linear(dim, vocab, bias=False)
        self.tok_embeddings.weight = self.output.weight  # tied
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
        hd = dim // n_heads
        freqs = torch.outer(torch.arange(max_seq_len).float(), 1.0 / 10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        self.cos, self.sin = torch.cos(freqs), torch.sin(freqs)
        zpos = torch.arange(0, max_seq_len, max_seq_len // max_z_len)[: self.z_per_layer]
        self.cos_z, self.sin_z = self.cos[zpos], self.sin[zpos]
        i = torch.arange(max_seq_len)
        allowed = (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - window)  # keys in [i-window+1, i]
        self.mask = torch.zeros(max_seq_len, max_seq_len).masked_fill(~allowed, float("-inf"))

    def nelbo(self, x, y, mu, log_var, eps):
        """Sum of token CE + KL(q || N(0, I)) for z = mu + eps * exp(log_var / 2) (authors' `elbo`, batch summed)."""
        b, s = x.shape
        kl = (-0.5 * (1 + log_var - mu.pow(2) - log_var.exp())).sum()
        z = (mu + eps * torch.exp(0.5 * log_var)).view(b, self.n_layers, self.z_per_layer, -1)
        cos, sin, mask = self.cos[:s], self.sin[:s], self.mask[:s, :s]
        h = self.tok_embeddings(x)
        for li, layer in enumerate(self.layers):
            h = layer(h, cos, sin, mask, z[:, li], self.cos_z, self.sin_z)
        logits = self.output(self.norm(h))
        ce = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), reduction="none").sum()
        return ce + kl


def fast_lr(step, lr, num_steps):
    """Cosine from lr to lr/10 over num_steps (PosteriorOptimizer.get_fast_lr)."""
    return lr / 10 + 0.5 * (1 + math.cos(math.pi * step / num_steps)) * (lr - lr / 10)


def best_of(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(n_layers, weights_grad, repeats, block=1024, seed=0, lr=0.34, num_steps=16):
    torch.manual_seed(seed)
    model = LTM(n_layers).eval()
    model.requires_grad_(weights_grad)
    tokens = torch.randint(0, 50258, (1, block))
    x, y = tokens[:, :-1], tokens[:, 1:]
    n_z, dim = 24, 512
    mu = (torch.randn(1, n_z, dim) * 0.01).requires_grad_()  # callers pass Z = 0.01 N(0,1)
    log_var = (torch.randn(1, n_z, dim) * 0.1 - 5.0).requires_grad_()
    eps = torch.randn(1, n_z, dim)  # drawn once, reused every step
    opt = torch.optim.AdamW([mu, log_var], lr=lr, betas=(0.9, 0.999), eps=1e-8)  # default weight_decay 0.01
    state = {"s": 0}

    def forward():
        with torch.no_grad():
            model.nelbo(x, y, mu, log_var, eps)

    def step():  # one iteration of _adamVI's loop (weight grads, if any, accumulate as in the original)
        for g in opt.param_groups:
            g["lr"] = fast_lr(state["s"] % num_steps, lr, num_steps)
        opt.zero_grad(set_to_none=True)
        loss = model.nelbo(x, y, mu, log_var, eps)
        loss.backward()
        opt.step()
        state["s"] += 1

    t_fwd, t_step = best_of(forward, repeats), best_of(step, repeats)
    return {"model": {3: "LTM-S", 6: "LTM-M"}.get(n_layers, f"LTM-{n_layers}L"), "layers": n_layers,
            "variant": "weights-grad" if weights_grad else "z-only", "threads": torch.get_num_threads(),
            "secondsPerForward": t_fwd, "secondsPerStep": t_step, "stepToForwardRatio": t_step / t_fwd,
            "secondsPerBlockAt16Steps": 16 * t_step + t_fwd,
            "params": sum(p.numel() for p in model.parameters())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (intra-op threads)")
    ap.add_argument("--shapes", default="S,M", help="comma list of S (3 layers), M (6 layers)")
    ap.add_argument("--variants", default="weights-grad,z-only", help="weights-grad (authors' code), z-only, or both")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best reported)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = [bench({"S": 3, "M": 6}[s.strip()], v.strip() == "weights-grad", args.repeats)
               for s in args.shapes.split(",") for v in args.variants.split(",")]
    if args.json:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": results}, indent=2))
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeats}, 1023-token block, batch 1")
    print(f"{'model':6} {'variant':13} {'params':>11} {'forward s':>10} {'step s':>9} {'step/fwd':>9} {'T=16 block s':>13}")
    for r in results:
        print(f"{r['model']:6} {r['variant']:13} {r['params']:>11,} {r['secondsPerForward']:>10.3f} "
              f"{r['secondsPerStep']:>9.3f} {r['stepToForwardRatio']:>9.2f} {r['secondsPerBlockAt16Steps']:>13.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference outputs for the MDLM sampler, time-conditioned DiT and Lightning-checkpoint tests (LTMModelsTests).

The DiT below follows the MDLM authors' ``models/dit.py`` (doc §4.1) with flash-attn replaced by plain torch ops,
as nn.Modules registered in the authors' order (so ``parameters()`` and ``state_dict()`` come out in their order,
which a Lightning checkpoint's EMA list relies on). Before writing anything the script checks that it reproduces
``../shared/fixtures/mdlm-micro/expected.safetensors`` (SUBS log-probs), so the outputs below are trustworthy.

Outputs (into Tests/LTMModelsTests/Fixtures/mdlm/):
- ``sampler.safetensors``: the authors' ``_sample`` with the ``ddpm_cache`` sampler (``_ddpm_caching_update``,
  ``_sample_categorical``, noise removal) on mdlm-micro, 2 samples of 16 tokens, T = 8 steps, sample 1
  prefix-conditioned (its first 5 positions fixed to prompt tokens). The uniforms U of every step's
  ``torch.rand_like`` are saved (float32 values, used in float64; only the rows of positions still masked, the
  only ones read) so no RNG has to match, with the token trajectory and the network calls per sample.
- ``timecond/``: a tiny time-conditioned DiT (``time_conditioning: true``) and its raw logits at two σ values. The
  committed ``timecond/expected.safetensors`` is then rewritten by ``tools/make_mdlm_dit_goldens.py`` from the authors'
  own ``models/dit.py`` (run it after this script; it reports how far this rebuild's logits were from theirs).
- ``lightning.ckpt`` + ``lightning-expected.safetensors``: mdlm-micro in a Lightning checkpoint whose EMA shadow
  params are perturbed weights, with an OmegaConf ``hyper_parameters`` config; the logits the EMA weights give (also
  rewritten by ``tools/make_mdlm_dit_goldens.py``, from the authors' ``models/ema.py`` and ``models/dit.py``).

usage: make_mdlm_sampler_fixture.py [SHARED_DIR] [OUT_DIR]   (torch, safetensors, omegaconf)
"""

import collections
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "Tests", "LTMModelsTests", "Fixtures", "mdlm")
NEG_INF = -1000000.0


# ---------------------------------------------------------------- DiT (models/dit.py, plain torch)
class Rotary(nn.Module):
    def __init__(self, dim, base=10_000):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)))

    def forward(self, length):
        t = torch.arange(length, dtype=torch.float32)
        freqs = torch.outer(t, self.inv_freq)
        return freqs.cos(), freqs.sin()


def rotate_half(x, cos, sin):  # x [B, L, H, dh]; GPT-NeoX, interleaved=False
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1)


class LayerNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones([dim]))
        self.dim = dim

    def forward(self, x):
        return F.layer_norm(x.float(), [self.dim]) * self.weight[None, None, :]


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden_size, frequency_embedding_size=256):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(frequency_embedding_size, hidden_size, bias=True), nn.SiLU(),
            nn.Linear(hidden_size, hidden_size, bias=True))
        self.frequency_embedding_size = frequency_embedding_size

    @staticmethod
    def timestep_embedding(t, dim, max_period=10000):
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, t):
        return self.mlp(self.timestep_embedding(t, self.frequency_embedding_size))


class EmbeddingLayer(nn.Module):
    def __init__(self, dim, vocab_dim):
        super().__init__()
        self.embedding = nn.Parameter(torch.empty((vocab_dim, dim)))

    def forward(self, x):
        return self.embedding[x]


class DDiTBlock(nn.Module):
    def __init__(self, dim, n_heads, cond_dim, mlp_ratio=4):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = LayerNorm(dim)
        self.attn_qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.attn_out = nn.Linear(dim, dim, bias=False)
        self.norm2 = LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim, bias=True), nn.GELU(approximate="tanh"),
            nn.Linear(mlp_ratio * dim, dim, bias=True))
        self.adaLN_modulation = nn.Linear(cond_dim, 6 * dim, bias=True)

    def forward(self, x, rotary, c):
        B, L, d = x.shape
        sh_msa, sc_msa, g_msa, sh_mlp, sc_mlp, g_mlp = self.adaLN_modulation(c)[:, None].chunk(6, dim=2)
        h = modulate(self.norm1(x), sh_msa, sc_msa)
        qkv = self.attn_qkv(h).view(B, L, 3, self.n_heads, d // self.n_heads)
        cos, sin = rotary
        q, k, v = rotate_half(qkv[:, :, 0], cos, sin), rotate_half(qkv[:, :, 1], cos, sin), qkv[:, :, 2]
        att = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=False)
        x = x + g_msa * self.attn_out(att.transpose(1, 2).reshape(B, L, d))
        return x + g_mlp * self.mlp(modulate(self.norm2(x), sh_mlp, sc_mlp))


class DDitFinalLayer(nn.Module):
    def __init__(self, hidden_size, out_channels, cond_dim):
        super().__init__()
        self.norm_final = LayerNorm(hidden_size)
        self.linear = nn.Linear(hidden_size, out_channels)
        self.adaLN_modulation = nn.Linear(cond_dim, 2 * hidden_size, bias=True)

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c)[:, None].chunk(2, dim=2)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DIT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, cond = cfg["hidden_dim"], cfg["cond_dim"]
        self.cfg = cfg
        self.vocab_embed = EmbeddingLayer(d, cfg["vocab_size"])
        self.sigma_map = TimestepEmbedder(cond)
        self.rotary_emb = Rotary(d // cfg["n_heads"])
        self.blocks = nn.ModuleList([DDiTBlock(d, cfg["n_heads"], cond) for _ in range(cfg["n_blocks"])])
        self.output_layer = DDitFinalLayer(d, cfg["vocab_size"], cond)

    def forward(self, ids, sigma):
        if not self.cfg["time_conditioning"]:  # diffusion.py::_process_sigma
            sigma = torch.zeros_like(sigma)
        x = self.vocab_embed(ids)
        c = F.silu(self.sigma_map(sigma))
        rotary = self.rotary_emb(ids.shape[1])
        for block in self.blocks:
            x = block(x, rotary, c)
        return self.output_layer(x, c)


class Backbone(nn.Module):
    """The Lightning module's `backbone` attribute (state-dict keys `backbone.*`)."""

    def __init__(self, cfg):
        super().__init__()
        self.backbone = DIT(cfg)


def load_model(directory):
    cfg = json.load(open(os.path.join(directory, "config.json")))
    model = Backbone(cfg)
    model.load_state_dict(load_file(os.path.join(directory, "model.safetensors")), strict=True)
    return model.eval()


def subs(logits, xt, mask_index):
    """diffusion.py::_subs_parameterization."""
    logits = logits.clone()
    logits[:, :, mask_index] += NEG_INF
    logits = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    unmasked = xt != mask_index
    logits[unmasked] = NEG_INF
    logits[unmasked, xt[unmasked]] = 0
    return logits


def log_linear_sigma(t, eps=1e-3):
    """noise_schedule.py::LogLinearNoise.total_noise: σ(t) = −log1p(−(1−ε)t)."""
    return -torch.log1p(-(1 - eps) * t)


# ---------------------------------------------------------------- (a) trust check
def check_micro(model, expected, mask_index):
    with torch.no_grad():
        got = subs(model.backbone(expected["xt"], torch.zeros(2)), expected["xt"], mask_index)
    want = expected["subs_logprobs"]
    finite = want > NEG_INF / 2
    err = ((got[finite] - want[finite]).norm() / want[finite].norm()).item()
    assert err < 1e-6, f"the torch DiT does not reproduce mdlm-micro's subs_logprobs (rel. error {err})"
    assert torch.equal(finite, got > NEG_INF / 2)
    print(f"mdlm-micro SUBS log-probs reproduced (rel. error {err:.2e})")


# ---------------------------------------------------------------- (b) sampler (diffusion.py::_sample, ddpm_cache)
def sample_ddpm_cache(model, x, steps, uniforms, mask_index, eps=1e-5):
    """`_sample` with `_ddpm_caching_update` and `_sample_categorical`, every draw in float64; `uniforms[i]` replaces
    step i's `torch.rand_like(q_xs)`. The cache is kept per sample (a sample whose tokens did not change reuses its
    p_θ), which gives the same tokens as the reference's batch-wide `torch.allclose` check."""
    timesteps = torch.linspace(1, eps, steps + 1, dtype=torch.float64)
    dt = (1 - eps) / steps
    trajectory = [x.clone()]
    calls = torch.zeros(x.shape[0], dtype=torch.int64)
    cache = [None] * x.shape[0]
    for i in range(steps):
        t = timesteps[i]
        sigma_t = log_linear_sigma(t.float() * torch.ones(x.shape[0]))
        need = [b for b in range(x.shape[0]) if cache[b] is None]
        if need:
            with torch.no_grad():
                logp = subs(model.backbone(x[need], sigma_t[need]), x[need], mask_index)
            for j, b in enumerate(need):
                cache[b] = logp[j].double().exp()
                calls[b] += 1
        p_x0 = torch.stack(cache)
        move_t, move_s = t, t - dt
        q_xs = p_x0 * (move_t - move_s)
        q_xs[:, :, mask_index] = move_s
        gumbel_norm = 1e-10 - (uniforms[i].double() + 1e-10).log()
        drawn = (q_xs / gumbel_norm).argmax(dim=-1)
        copy = (x != mask_index).to(x.dtype)
        x_next = copy * x + (1 - copy) * drawn
        for b in range(x.shape[0]):
            if not torch.equal(x_next[b], x[b]) or model.backbone.cfg["time_conditioning"]:
                cache[b] = None
        x = x_next
        trajectory.append(x.clone())
    # noise_removal: x = argmax forward(x, σ(t_min)) (SUBS keeps unmasked tokens).
    with torch.no_grad():
        sigma = log_linear_sigma(timesteps[-1].float() * torch.ones(x.shape[0]))
        final = subs(model.backbone(x, sigma), x, mask_index).argmax(dim=-1)
    calls += 1
    return torch.stack(trajectory), final, calls


def make_sampler_fixture(model, expected, mask_index):
    length, steps, batch, prefix = 16, 8, 2, 5
    gen = torch.Generator().manual_seed(20261123)
    vocab = model.backbone.cfg["vocab_size"]
    uniforms = torch.rand(steps, batch, length, vocab, generator=gen, dtype=torch.float32)
    x = torch.full((batch, length), mask_index, dtype=torch.int64)
    prompt = expected["x0"][0, :prefix]
    x[1, :prefix] = prompt
    trajectory, final, calls = sample_ddpm_cache(model, x, steps, uniforms, mask_index)
    assert (final != mask_index).all() and torch.equal(final[1, :prefix], prompt)
    # Only the rows of U at positions still masked before a step are read (unmasked positions copy their token):
    # keep those, and check that the others are irrelevant by redrawing them.
    masked = trajectory[:-1] == mask_index  # [steps, batch, length]
    other = torch.rand(uniforms.shape, generator=gen, dtype=torch.float32)
    mixed = torch.where(masked[..., None], uniforms, other)
    again, final_again, _ = sample_ddpm_cache(model, x, steps, mixed, mask_index)
    assert torch.equal(again, trajectory) and torch.equal(final_again, final)
    index = masked.nonzero()  # rows (step, sample, position) in row-major order
    rows = uniforms[masked]
    changed = [(trajectory[i + 1] != trajectory[i]).sum().item() for i in range(steps)]
    print("sampler: tokens unmasked per step", changed, "network calls per sample", calls.tolist())
    save_file({
        "uniform_rows": rows.contiguous(), "uniform_index": index.contiguous(), "prefix": prompt.contiguous(), "trajectory": trajectory.contiguous(),
        "final": final.contiguous(), "network_calls": calls.contiguous(),
    }, os.path.join(OUT, "sampler.safetensors"), metadata={"steps": str(steps), "eps": "1e-5"})


# ---------------------------------------------------------------- (c) time-conditioned DiT
def make_timecond_fixture():
    cfg = {"model_type": "mdlm", "hidden_dim": 16, "cond_dim": 8, "n_blocks": 2, "n_heads": 2, "vocab_size": 41,
           "model_length": 12, "dropout": 0.0, "time_conditioning": True}
    torch.manual_seed(7)
    model = Backbone(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif "sigma_map" in name or "adaLN" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    model.eval()
    directory = os.path.join(OUT, "timecond")
    os.makedirs(directory, exist_ok=True)
    json.dump(cfg, open(os.path.join(directory, "config.json"), "w"), indent=1)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(directory, "model.safetensors"))
    xt = torch.randint(0, cfg["vocab_size"], (2, cfg["model_length"]), generator=torch.Generator().manual_seed(3))
    xt[:, ::3] = cfg["vocab_size"] - 1
    sigmas = torch.tensor([0.25, 2.5])
    out = {"xt": xt, "sigmas": sigmas}
    with torch.no_grad():
        for i, s in enumerate(sigmas):
            out[f"logits_{i}"] = model.backbone(xt, s.repeat(2)).contiguous()
        out["logits_per_block"] = model.backbone(xt, sigmas).contiguous()
    d = (out["logits_0"] - out["logits_1"]).abs().max().item()
    assert d > 0.1, "σ must matter"
    print(f"time-conditioned: max |logits(σ=0.25) − logits(σ=2.5)| = {d:.3f}")
    save_file(out, os.path.join(directory, "expected.safetensors"))


# ---------------------------------------------------------------- (d) Lightning checkpoint
def make_lightning_fixture(model):
    from omegaconf import OmegaConf

    cfg = model.backbone.cfg
    config = OmegaConf.create({
        "backbone": "dit", "parameterization": "subs", "time_conditioning": cfg["time_conditioning"], "T": 0,
        "model": {"name": "micro", "type": "ddit", "hidden_size": cfg["hidden_dim"], "cond_dim": cfg["cond_dim"],
                  "length": cfg["model_length"], "n_blocks": cfg["n_blocks"], "n_heads": cfg["n_heads"],
                  "scale_by_sigma": True, "dropout": 0.1, "tie_word_embeddings": False},
        "noise": {"type": "loglinear", "sigma_min": 1e-4, "sigma_max": 20},
        "training": {"ema": 0.9999, "antithetic_sampling": True, "sampling_eps": 1e-3},
    })
    gen = torch.Generator().manual_seed(11)
    params = list(model.parameters())  # itertools.chain(backbone.parameters(), noise.parameters()); noise has none
    shadow = [(p.detach() + 0.05 * torch.randn(p.shape, generator=gen)).clone() for p in params]
    ema_model = Backbone(cfg)
    ema_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        for p, s in zip(ema_model.parameters(), shadow):
            p.copy_(s)
    ema_model.eval()
    xt = torch.randint(0, cfg["vocab_size"], (1, 8), generator=gen)
    with torch.no_grad():
        ema_logits = ema_model.backbone(xt, torch.zeros(1))
        raw_logits = model.backbone(xt, torch.zeros(1))
    assert (ema_logits - raw_logits).abs().max() > 0.05
    state_dict = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    checkpoint = {
        "epoch": 3, "global_step": 1000, "pytorch-lightning_version": "2.2.1",
        "state_dict": state_dict,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 3}}}},
        "callbacks": {}, "optimizer_states": [{"state": {}, "param_groups": [{"lr": 3e-4, "params": list(range(len(params)))}]}],
        "lr_schedulers": [{"last_epoch": 1000}],
        "ema": {"decay": 0.9999, "num_updates": 1000, "shadow_params": shadow, "collected_params": None},
        "hyper_parameters": {"config": config},
    }
    torch.save(checkpoint, os.path.join(OUT, "lightning.ckpt"))
    save_file({"xt": xt, "ema_logits": ema_logits.contiguous(), "raw_logits": raw_logits.contiguous()},
              os.path.join(OUT, "lightning-expected.safetensors"))
    print(f"lightning: {len(shadow)} EMA tensors; max |EMA − raw| logit {(ema_logits - raw_logits).abs().max().item():.3f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    micro = os.path.join(SHARED, "fixtures", "mdlm-micro")
    model = load_model(micro)
    expected = load_file(os.path.join(micro, "expected.safetensors"))
    mask_index = model.backbone.cfg["vocab_size"] - 1
    check_micro(model, expected, mask_index)
    make_sampler_fixture(model, expected, mask_index)
    make_timecond_fixture()
    make_lightning_fixture(model)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""SEDD goldens from the SEDD authors' own code (louaaron/Score-Entropy-Discrete-Diffusion, fetched at generation time,
never committed): two tiny random checkpoints in the two layouts the authors write, and what their code computes on
them (Tests/LTMModelsTests/Fixtures/sedd/).

- ``hf/``: ``SEDD.save_pretrained`` (``config.json`` holding the model, graph and noise sections, ``model.safetensors``);
  log-linear noise.
- ``run/``: a training run as ``run_train.py`` leaves it: ``.hydra/config.yaml`` (``OmegaConf.save``) and
  ``checkpoints-meta/checkpoint.pth`` (``utils.save_checkpoint``: ``model``, ``ema``, ``optimizer``, ``step``), where the
  EMA shadow parameters differ from the raw ones; geometric noise. Read by the authors' ``load_model_local``, which
  evaluates with the EMA weights.

``expected.json`` in each folder, all from the authors' functions:
- ``score``: ``SEDD.forward(x_t, σ)`` (the log score after ``scale_by_sigma`` and the zero at the current token) for two
  sequences at two σ;
- ``loss``: ``losses.get_loss_fn`` at fixed t and x_t (``perturbed_batch``): the per-position
  dσ·``Absorbing.score_entropy`` and its per-sequence sum, for three (t, x_t) draws per sequence (the bound at those
  draws is their mean);
- ``samplers``: ``sampling.get_pc_sampler`` with the ``analytic`` and ``euler`` predictors, 8 steps, ``denoise``, the
  first 5 positions fixed by ``proj_fun`` (prefix-conditioned), x after every predictor step and after the denoiser.
  The categorical draws read fixed uniforms: ``catsample.sample_categorical`` is replaced by the same Exp(1) race
  (argmax of probs / (1e-10 − log(u + 1e-10))) in float64 with u from SplitMix64 seeded by (call, sample, position)
  (``uniforms``), so the Swift sampler can be given the same u.

flash-attn, a CUDA-only package, is replaced by the plain-torch stand-ins of ``make_mdlm_dit_goldens.py`` (rotate-half
rotary, bidirectional softmax attention); on CPU the authors' ``torch.cuda.amp.autocast`` blocks are inert (fp32).

usage: make_sedd_goldens.py SEDD_CHECKOUT [OUT_DIR]
(torch, einops, omegaconf, huggingface_hub, safetensors in a throwaway venv; SEDD_CHECKOUT: a clone of
https://github.com/louaaron/Score-Entropy-Discrete-Diffusion, commit 0605786)
"""

import json
import os
import shutil
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mdlm_dit_goldens import install_flash_attn_stand_ins  # noqa: E402

MASK64 = (1 << 64) - 1


class SplitMix64:
    """ltm-bench's SplitMix64 (LTMTensor/SplitMix64.swift) and its 53-bit unit draw."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * 2.0 ** -53


def uniform_row(call, sample, position, count):
    """The uniforms of one categorical draw: SplitMix64 seeded by (call, sample, position), `count` values."""
    g = SplitMix64((call << 40) ^ (sample << 20) ^ position)
    return [g.unit() for _ in range(count)]


class FixedUniformRace:
    """catsample.sample_categorical with the uniforms of `uniform_row`, the race in float64."""

    def __init__(self):
        self.call = 0

    def __call__(self, probs, method="hard"):
        assert method == "hard"
        b, length, v = probs.shape
        u = torch.tensor([[uniform_row(self.call, i, p, v) for p in range(length)] for i in range(b)], dtype=torch.float64)
        self.call += 1
        gumbel_norm = 1e-10 - (u + 1e-10).log()
        return (probs.double() / gumbel_norm).argmax(dim=-1)


def tiny_config(noise):
    return {
        "ngpus": 1, "tokens": 32,
        "training": {"batch_size": 4, "accum": 1, "ema": 0.9999},
        "graph": {"type": "absorb", "file": "data", "report_all": False},
        "noise": noise,
        "sampling": {"predictor": "euler", "steps": 128, "noise_removal": True},
        "model": {"name": "tiny", "type": "ddit", "hidden_size": 32, "cond_dim": 16, "length": 16, "n_blocks": 2,
                  "n_heads": 4, "scale_by_sigma": True, "dropout": 0.1},
    }


def randomize(model, seed):
    """Random weights away from the authors' zero init (adaLN and the output layer start at 0, which would make every
    score the same): N(0, 0.3²), LayerNorm weights near 1, the output layer small (N(0, 0.05²)) so that the scores stay
    near a calibrated model's and the samplers unmask over several steps rather than all at once."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            scale = 0.05 if name.startswith("output_layer.linear") else 0.3
            p.copy_(1 + 0.1 * noise if "norm" in name else scale * noise)


def goldens(model, graph, noise, length, vocab):
    import losses
    import sampling
    import graph_lib

    g = torch.Generator().manual_seed(7)
    x0 = torch.randint(0, vocab - 1, (2, length), generator=g)
    mask = vocab - 1
    out = {"x0": x0.tolist()}
    model.eval()
    with torch.no_grad():
        # The score at two σ.
        xt = torch.where(torch.rand(2, length, generator=g) < 0.5, mask, x0)
        sigma = torch.tensor([0.3, 2.5])
        out["score"] = {"xt": xt.tolist(), "sigma": sigma.tolist(), "log_score": model(xt, sigma).tolist()}

        # The loss at fixed (t, x_t): three draws per sequence.
        loss_fn = losses.get_loss_fn(noise, graph, train=False)
        draws = []
        for t_values in ([0.05, 0.6], [0.35, 0.999], [0.8, 0.2]):
            t = torch.tensor(t_values)
            sigma, dsigma = noise(t)
            move = 1 - (-sigma[:, None]).exp()
            xt = torch.where(torch.rand(2, length, generator=g) < move, mask, x0)
            summed = loss_fn(model, x0, t=t, perturbed_batch=xt)
            per_position = graph.score_entropy(model(xt, sigma), sigma[:, None], xt, x0) * dsigma[:, None]
            draws.append({"t": t.tolist(), "sigma": sigma.tolist(), "dsigma": dsigma.tolist(), "xt": xt.tolist(),
                          "loss": per_position.tolist(), "sum": summed.tolist()})
        out["loss"] = draws

        # The samplers, prefix-conditioned, with fixed uniforms.
        prefix_locs = list(range(5))
        prefix = x0[:, :5]

        def proj_fun(x):
            x[:, prefix_locs] = prefix
            return x

        out["samplers"] = {"steps": 8, "eps": 1e-5, "prefix_length": 5}
        for predictor in ("analytic", "euler"):
            race = FixedUniformRace()
            sampling.sample_categorical = race
            graph_lib.sample_categorical = race
            trajectory = []
            sampler = sampling.get_pc_sampler(graph, noise, (2, length), predictor, 8, denoise=True, eps=1e-5,
                                              device=torch.device("cpu"), proj_fun=recording(proj_fun, trajectory))
            final = proj_fun(sampler(model))
            out["samplers"][predictor] = {"trajectory": trajectory[1:], "final": final.tolist(), "calls": race.call}
    return out


def recording(proj_fun, trajectory):
    """proj_fun, also recording x as the sampler hands it over: before the first step, after each predictor step
    (projected before the next), and after the last one (before the denoiser)."""
    def project(x):
        x = proj_fun(x)
        trajectory.append(x.tolist())
        return x
    return project


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    checkout = os.path.abspath(sys.argv[1])
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "Tests", "LTMModelsTests", "Fixtures", "sedd")
    install_flash_attn_stand_ins()
    sys.path.insert(0, checkout)
    import graph_lib
    import noise_lib
    from load_model import load_model_hf, load_model_local
    from model.ema import ExponentialMovingAverage
    from model.transformer import SEDD
    from omegaconf import OmegaConf

    shutil.rmtree(out_dir, ignore_errors=True)
    torch.manual_seed(0)

    # Hugging Face layout, log-linear noise.
    hf = os.path.join(out_dir, "hf")
    model = SEDD(tiny_config({"type": "loglinear", "sigma_min": 1e-4, "sigma_max": 20}))
    randomize(model, 1)
    model.save_pretrained(hf)
    os.remove(os.path.join(hf, "README.md"))
    model, graph, noise = load_model_hf(hf, "cpu")
    result = goldens(model, graph, noise, 16, graph.dim)
    json.dump(result, open(os.path.join(hf, "expected.json"), "w"))

    # A training run, geometric noise, EMA weights different from the raw ones.
    run = os.path.join(out_dir, "run")
    config = tiny_config({"type": "geometric", "sigma_min": 1e-4, "sigma_max": 20})
    os.makedirs(os.path.join(run, ".hydra"))
    os.makedirs(os.path.join(run, "checkpoints-meta"))
    OmegaConf.save(OmegaConf.create(config), os.path.join(run, ".hydra", "config.yaml"))
    model = SEDD(config)
    randomize(model, 2)
    ema = ExponentialMovingAverage(model.parameters(), decay=config["training"]["ema"])
    g = torch.Generator().manual_seed(3)
    ema.shadow_params = [p.detach() + 0.05 * torch.randn(p.shape, generator=g) for p in ema.shadow_params]
    ema.num_updates = 10
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    torch.save({"optimizer": optimizer.state_dict(), "model": model.state_dict(), "ema": ema.state_dict(), "step": 10},
               os.path.join(run, "checkpoints-meta", "checkpoint.pth"))
    model, graph, noise = load_model_local(run, "cpu")
    assert isinstance(graph, graph_lib.Absorbing) and isinstance(noise, noise_lib.GeometricNoise)
    result = goldens(model, graph, noise, 16, graph.dim)
    json.dump(result, open(os.path.join(run, "expected.json"), "w"))
    for folder in (hf, run):
        for base, _, files in os.walk(folder):
            for f in files:
                print(os.path.relpath(os.path.join(base, f), ROOT), os.path.getsize(os.path.join(base, f)))


if __name__ == "__main__":
    main()

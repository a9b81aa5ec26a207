#!/usr/bin/env python3
"""Two MDLM goldens from the MDLM authors' own code: the time-conditioned DiT
(Tests/LTMModelsTests/Fixtures/mdlm/timecond/expected.safetensors, ``models/dit.py``) and the EMA weights of a
Lightning checkpoint (Tests/LTMModelsTests/Fixtures/mdlm/lightning-expected.safetensors, ``models/ema.py`` + ``dit.py``,
see ``lightning_ema_golden``).

The weights and inputs are those ``tools/make_mdlm_sampler_fixture.py`` wrote (``timecond/model.safetensors``, x_t and
the σ values of the old ``expected.safetensors``); this script loads the weights, strictly, into the authors' ``DIT``
class built with ``time_conditioning`` on (the σ-embedding ``TimestepEmbedder`` and the adaLN modulation are theirs),
runs their ``forward(indices, sigma)`` and writes its raw logits: at each σ for both blocks, and per block
(block b at σ_b). flash-attn, a CUDA-only package, is replaced by two plain torch functions of the same math, the
only code here that is not the authors': ``apply_rotary_emb_qkv_`` (GPT-NeoX rotate-half rotary on q and k, in
place; ``interleaved=False``, the default) and ``flash_attn_varlen_qkvpacked_func`` (bidirectional softmax attention
per sequence of ``cu_seqlens``, scale 1/√d). On CPU the authors' ``torch.cuda.amp.autocast`` blocks are inert, so
everything runs in fp32. It also checks the authors' DIT against the shared ``mdlm-micro`` fixture (SUBS log-probs)
before writing, so the stand-ins are proven on the fixture the authors' code made.

usage: make_mdlm_dit_goldens.py MDLM_CHECKOUT [SHARED_DIR] [TIMECOND_DIR]
(torch, einops, omegaconf, huggingface_hub, safetensors in a throwaway venv; MDLM_CHECKOUT: a clone of
https://github.com/kuleshov-group/mdlm)
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
import types
import warnings

import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def install_flash_attn_stand_ins():
    def apply_rotary_emb_qkv_(qkv, cos, sin):  # qkv [B, S, 3, H, D], cos/sin [S, D/2]
        half = cos.shape[-1]
        c, s = cos[None, :, None, :], sin[None, :, None, :]
        for i in (0, 1):  # q and k; v is left alone
            a, b = qkv[:, :, i, :, :half].clone(), qkv[:, :, i, :, half:2 * half].clone()
            qkv[:, :, i, :, :half] = a * c - b * s
            qkv[:, :, i, :, half:2 * half] = b * c + a * s
        return qkv

    def flash_attn_varlen_qkvpacked_func(qkv, cu_seqlens, max_seqlen, dropout_p, causal=False):  # qkv [(B S), 3, H, D]
        assert dropout_p == 0.0 and not causal
        out = torch.empty_like(qkv[:, 0])
        bounds = cu_seqlens.tolist()
        for start, end in zip(bounds[:-1], bounds[1:]):
            q, k, v = (qkv[start:end, i].transpose(0, 1) for i in range(3))  # [H, S, D]
            weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
            out[start:end] = (weights @ v).transpose(0, 1)
        return out

    flash_attn = types.ModuleType("flash_attn")
    flash_attn.layers = types.ModuleType("flash_attn.layers")
    flash_attn.layers.rotary = types.ModuleType("flash_attn.layers.rotary")
    flash_attn.layers.rotary.apply_rotary_emb_qkv_ = apply_rotary_emb_qkv_
    flash_attn.flash_attn_interface = types.ModuleType("flash_attn.flash_attn_interface")
    flash_attn.flash_attn_interface.flash_attn_varlen_qkvpacked_func = flash_attn_varlen_qkvpacked_func
    for name, module in [("flash_attn", flash_attn), ("flash_attn.layers", flash_attn.layers),
                         ("flash_attn.layers.rotary", flash_attn.layers.rotary),
                         ("flash_attn.flash_attn_interface", flash_attn.flash_attn_interface)]:
        sys.modules[name] = module


def authors_module(checkout, relative, name):
    """One file of the authors' ``models`` package, alone: the package's __init__ also imports the Mamba and AR
    backbones and their CUDA packages."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(checkout, relative))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def authors_dit(checkout, config, state):
    """The authors' DIT for an ltm-bench MDLM config.json, loaded strictly with the ``backbone.*`` tensors."""
    model = authors_module(checkout, "models/dit.py", "mdlm_dit").DIT({"model": {"hidden_size": config["hidden_dim"], "cond_dim": config["cond_dim"],
                           "n_blocks": config["n_blocks"], "n_heads": config["n_heads"], "dropout": config["dropout"],
                           "scale_by_sigma": True, "length": config["model_length"]}},
                vocab_size=config["vocab_size"])
    weights = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    assert len(weights) == len(state), "every tensor is a backbone tensor"
    model.load_state_dict(weights, strict=True)
    return model.eval()


def subs_log_probs(logits, xt, mask_index):  # diffusion.py::_subs_parameterization
    logits = logits.clone()
    logits[:, :, mask_index] += -1000000.0
    logits = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    unmasked = xt != mask_index
    logits[unmasked] = -1000000.0
    logits[unmasked, xt[unmasked]] = 0
    return logits


def check_against_shared_fixture(checkout, shared):
    folder = os.path.join(shared, "fixtures", "mdlm-micro")
    config = json.load(open(os.path.join(folder, "config.json")))
    model = authors_dit(checkout, config, load_file(os.path.join(folder, "model.safetensors")))
    expected = load_file(os.path.join(folder, "expected.safetensors"))
    xt = expected["xt"]
    with torch.no_grad():
        logp = subs_log_probs(model(xt, torch.zeros(xt.shape[0])), xt, config["vocab_size"] - 1)
    # log p(x0 | x_t): the masked positions' log-probs (the ±1e6 SUBS entries would swamp a norm of the whole tensor).
    got, want = logp.gather(-1, expected["x0"][..., None])[..., 0], expected["logp_x0"]
    error = ((got - want).norm() / want.norm()).item()
    assert error < 1e-6, f"the authors' DIT with the stand-ins misses mdlm-micro: {error}"
    print(f"authors' DIT on mdlm-micro: relative error of log p(x0 | x_t) {error:.2e}")


def lightning_ema_golden(checkout, folder):
    """The EMA logits of ``lightning.ckpt`` as the authors evaluate them: their ``ExponentialMovingAverage`` (models/
    ema.py) loads the checkpoint's ``ema`` entry (``Diffusion.on_load_checkpoint``) and copies the shadow parameters
    onto the backbone's parameters in order (``copy_to``, as ``_sample`` and validation do), then their DIT runs."""
    checkpoint = torch.load(os.path.join(folder, "lightning.ckpt"), weights_only=False)  # OmegaConf hyper_parameters
    model_config = checkpoint["hyper_parameters"]["config"]["model"]
    state = checkpoint["state_dict"]
    config = {"hidden_dim": model_config["hidden_size"], "cond_dim": model_config["cond_dim"],
              "n_blocks": model_config["n_blocks"], "n_heads": model_config["n_heads"], "dropout": 0.0,
              "model_length": model_config["length"], "vocab_size": state["backbone.vocab_embed.embedding"].shape[0]}
    model = authors_dit(checkout, config, state)
    ema = authors_module(checkout, "models/ema.py", "mdlm_ema").ExponentialMovingAverage(
        model.parameters(), decay=checkpoint["hyper_parameters"]["config"]["training"]["ema"])
    ema.load_state_dict(checkpoint["ema"])
    previous = load_file(os.path.join(folder, "lightning-expected.safetensors"))
    xt = previous["xt"]
    with torch.no_grad():
        raw = model(xt, torch.zeros(xt.shape[0])).contiguous()
        ema.copy_to(model.parameters())
        logits = model(xt, torch.zeros(xt.shape[0])).contiguous()
    for key, value in [("ema_logits", logits), ("raw_logits", raw)]:
        drift = ((value - previous[key]).norm() / previous[key].norm()).item()
        print(f"lightning {key}: relative difference from the committed golden {drift:.2e}")
    return {"xt": xt, "ema_logits": logits, "raw_logits": raw}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[-3])
    checkout = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared")
    folder = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "Tests", "LTMModelsTests", "Fixtures", "mdlm", "timecond")
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.cuda.amp.autocast on CPU
    torch.set_num_threads(1)
    install_flash_attn_stand_ins()
    check_against_shared_fixture(checkout, shared)

    config = json.load(open(os.path.join(folder, "config.json")))
    assert config["time_conditioning"], "this golden is the σ-conditioned path"
    model = authors_dit(checkout, config, load_file(os.path.join(folder, "model.safetensors")))
    previous = load_file(os.path.join(folder, "expected.safetensors"))
    xt, sigmas = previous["xt"], previous["sigmas"]
    out = {"xt": xt, "sigmas": sigmas}
    with torch.no_grad():
        for i, sigma in enumerate(sigmas):
            out[f"logits_{i}"] = model(xt, sigma.repeat(xt.shape[0])).contiguous()
        out["logits_per_block"] = model(xt, sigmas).contiguous()
    for key, value in out.items():
        if key.startswith("logits"):
            drift = ((value - previous[key]).norm() / previous[key].norm()).item()
            print(f"{key}: relative difference from the committed golden {drift:.2e}")
    assert (out["logits_0"] - out["logits_1"]).abs().max() > 0.1, "σ must matter"
    commit = subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    metadata = {"generator": "tools/make_mdlm_dit_goldens.py", "reference": f"kuleshov-group/mdlm {commit} models/dit.py"}
    save_file(out, os.path.join(folder, "expected.safetensors"), metadata=metadata)
    print(f"wrote {folder}/expected.safetensors from the authors' DIT at {commit}")
    fixtures = os.path.dirname(folder)
    metadata["reference"] += " and models/ema.py"
    save_file(lightning_ema_golden(checkout, fixtures), os.path.join(fixtures, "lightning-expected.safetensors"), metadata=metadata)
    print(f"wrote {fixtures}/lightning-expected.safetensors from the authors' ExponentialMovingAverage and DIT")


if __name__ == "__main__":
    main()

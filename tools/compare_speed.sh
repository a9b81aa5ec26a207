#!/usr/bin/env bash
# Side-by-side speed of ltm-bench and the PyTorch tools users run today, in one go, on this machine, printing ratios.
#   1. GPT-2-small shape (random weights, saved by transformers), first 2 WikiText-2 test blocks, `ltm` protocol:
#      whole process (`ltm-bench zero-shot`) against transformers + torch (tools/speed_reference.py gpt2).
#   2. LTM-S shape (3 × 512, 8 heads, N_z 24, random weights in the authors' torch.save format), 1 PTB test block, 4
#      fast-loop steps: whole process (`ltm-bench zero-shot --elbo-samples 0`) against the authors' loop
#      (tools/speed_reference.py ltm).
#   3. LTM-S and LTM-M, one fast-loop step on a 1024-token block: `ltm-bench bench --ltm` against the authors'
#      loop re-implemented in plain torch (tools/bench_torch_fastloop.py, weights-grad variant as their eval runs).
#   4. MAUVE compute on 5000 + 5000 × 1280 features: `ltm-bench bench --mauve` against mauve-text 0.4.0 (features
#      of the same shape and spectrum; each side times its own PCA, k-means and histograms).
# Whole-process times and MAUVE's compute times are the best of 3 runs. Both sides get the same thread count
# (default: every CPU this process may use). The PyTorch side runs in a throwaway venv (torch, transformers,
# mauve-text, faiss-cpu from PyPI; never a project dependency).
# Usage: tools/compare_speed.sh [--threads N] [--venv DIR] [--shared DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
venv="${TMPDIR:-/tmp}/ltm-bench-speed-venv"
shared=../shared
while (($#)); do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --venv) venv=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.15.0 transformers==5.23.0 mauve-text==0.4.0 faiss-cpu scikit-learn
fi
py="$venv/bin/python"
# Same flags as .ci/run, so the build folder is shared with the tests.
swift build -c release -Xswiftc -enable-testing --product ltm-bench >/dev/null
bin=.build/release/ltm-bench

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, threads $threads"
"$bin" bench --threads "$threads" --repeats 1 --block-length 16 | sed -n 2p
echo "torch: $("$py" -c 'import torch; print(torch.__version__, torch.backends.cpu.get_cpu_capability())')"

# A GPT-2-small-shaped checkpoint as transformers saves it, with the GPT-2 tokenizer files.
"$py" - "$work/gpt2-small" "$shared/data/gpt2" <<'PY'
import shutil, sys, torch, transformers
torch.manual_seed(0)
transformers.GPT2LMHeadModel(transformers.GPT2Config()).save_pretrained(sys.argv[1])
for f in ("vocab.json", "merges.txt"):
    shutil.copy(f"{sys.argv[2]}/{f}", f"{sys.argv[1]}/{f}")
PY

# The smaller of two numbers; an empty second one (no run yet) gives the first.
smaller() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }

# Wall seconds of a whole command, best of 3 runs (this is a shared VM: single runs move by ±10%).
seconds() {
  local best=""
  for _ in 1 2 3; do
    local t
    t=$(/usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1)
    best=$(smaller "$t" "$best")
  done
  echo "$best"
}
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
# Warm the page cache and ltm-bench's start-up caches once each, as a user's second run finds them.
"$bin" zero-shot --model "$work/gpt2-small" --tasks wikitext2 --split test --data-dir "$shared/data" --limit-blocks 2 \
  --threads "$threads" --no-cache --output-dir "$work/warm" >/dev/null 2>&1
ours=$(seconds "$bin" zero-shot --model "$work/gpt2-small" --tasks wikitext2 --split test --data-dir "$shared/data" \
  --limit-blocks 2 --threads "$threads" --no-cache --output-dir "$work/zs")
theirs=$(seconds "$py" tools/speed_reference.py gpt2 "$work/gpt2-small" "$shared/data/wikitext/wiki.test.raw")
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "gpt2-small, 2 WikiText-2 blocks, whole process: ltm-bench %.2f s, transformers+torch %.2f s: %.2fx\n", a, b, b / a }'

# An LTM-S checkpoint as the authors' train_ltm.py saves it (torch.compile's _orig_mod keys, model_args, config).
"$py" - "$work/ltm-s" "$shared/data/gpt2" <<'PY'
import os, shutil, sys, torch
sys.path.insert(0, "tools")
from bench_torch_fastloop import LTM
torch.manual_seed(0)
model = LTM(3)
names = {"w1": "feed_forward.gate_proj", "w2": "feed_forward.down_proj", "w3": "feed_forward.up_proj",
         "attention.": "attention._orig_mod.", "cross_attention.": "cross_attention._orig_mod."}
state = {}
for k, v in model.state_dict().items():
    parts = k.split(".")
    if len(parts) > 2 and parts[0] == "layers":
        rest = ".".join(parts[2:])
        for a, b in names.items():
            if rest.startswith(a):
                rest = b + rest[len(a):]
                break
        k = f"layers.{parts[1]}.{rest}"
    state[k] = v.clone()
os.makedirs(sys.argv[1])
args = {"dim": 512, "n_layers": 3, "n_heads": 8, "n_kv_heads": 8, "vocab_size": 50258, "multiple_of": 32,
        "max_seq_len": 1024, "dropout": 0.0, "window_size": 256, "use_liger": True, "max_z_len": 24, "use_z_pos_emb": True}
config = {"num_steps": 4, "fast_lr": 0.34, "max_z_len": 24, "z_dim": 512, "inference_method": "adamVI",
          "vocab_size": 50258, "max_seq_len": 1024}
torch.save({"model": state, "model_args": args, "config": config, "iter_num": 0, "best_val_loss": 0.0}, f"{sys.argv[1]}/ckpt.pt")
for f in ("vocab.json", "merges.txt"):
    shutil.copy(f"{sys.argv[2]}/{f}", f"{sys.argv[1]}/{f}")
PY
"$bin" zero-shot --model "$work/ltm-s/ckpt.pt" --tasks ptb --split test --data-dir "$shared/data" --limit-blocks 1 \
  --elbo-samples 0 --threads "$threads" --no-cache --output-dir "$work/warm-ltm" >/dev/null 2>&1
ours=$(seconds "$bin" zero-shot --model "$work/ltm-s/ckpt.pt" --tasks ptb --split test --data-dir "$shared/data" \
  --limit-blocks 1 --elbo-samples 0 --threads "$threads" --no-cache --output-dir "$work/zs-ltm")
theirs=$(seconds "$py" tools/speed_reference.py ltm "$work/ltm-s/ckpt.pt" "$shared/data/ptb/ptb.test.txt")
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "LTM-S, 1 PTB block x 4 steps, whole process: ltm-bench %.2f s, authors\x27 loop %.2f s: %.2fx\n", a, b, b / a }'

ltm=$("$bin" bench --threads "$threads" --ltm --repeats 2 --json)
torchloop=$("$py" tools/bench_torch_fastloop.py --threads "$threads" --shapes S,M --variants weights-grad --repeats 2 --json)
"$py" - "$ltm" "$torchloop" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1])["ltmFastLoop"], json.loads(sys.argv[2])
for o, t in zip(ours, theirs["results"]):
    step = t["secondsPerStep"]
    print(f"{o['model'].split(' shape')[0]} fast-loop step: ltm-bench {o['secondsPerStep']:.3f} s ({o['stepToForwardRatio']:.2f}x a forward), "
          f"authors' loop {step:.3f} s: {step / o['secondsPerStep']:.2f}x")
PY

# MAUVE compute seconds (each process times its own computation), best of 3 processes per side, alternating.
ours="" theirs=""
for _ in 1 2 3; do
  a=$("$bin" bench --threads "$threads" --mauve --repeats 1 --block-length 16 --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["mauve"]["totalSeconds"])')
  b=$("$py" tools/speed_reference.py mauve | sed -E 's/.*compute_seconds ([0-9.]+).*/\1/')
  ours=$(smaller "$a" "$ours")
  theirs=$(smaller "$b" "$theirs")
done
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "MAUVE 5000+5000x1280 compute: ltm-bench %.2f s, mauve-text %.2f s: %.2f of mauve-text\n", a, b, a / b }'

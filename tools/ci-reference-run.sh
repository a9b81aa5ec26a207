#!/usr/bin/env bash
# The CI reference run: the small shared checkpoints on the first 2 blocks of every task (test splits: the shared
# data has WikiText-2's test file only), one thread, one block per forward pass, no cache.
# .ci/run compares it against baselines/ci-reference.json; tools/update-ci-baseline.sh rewrites that file from it.
# Usage: tools/ci-reference-run.sh LTM_BENCH_BINARY OUTPUT_DIR [more zero-shot options, e.g. --baseline FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1
out=$2
shift 2
shared=${LTM_BENCH_SHARED:-../shared}

models=(
  --model "$shared/fixtures/gpt2-tiny"
  # LTM: the authors' torch.save format, T and fast_lr from its config (6 steps, 0.34), official init seeded by
  # --seed 0; both bounds (fitted ε and 8 fresh ε) are compared.
  --model "$shared/fixtures/ltm-gpt2vocab/ckpt.pt"
  # MDLM: the NELBO bound with one (t, mask) draw per block (the papers' protocol: t antithetic across groups of
  # 16 consecutive blocks), seeded by --seed 0.
  --model "$shared/fixtures/mdlm-gpt2vocab"
)
# SEDD: its DWDSE bound with one (t, x_t) draw per block, seeded by --seed 0, on a GPT-2-vocabulary SEDD checkpoint
# assembled from the committed save_pretrained-style config and the DDiT weights of the shared MDLM fixture (the same
# network; its parity is proven on the tiny goldens of Tests/LTMModelsTests/Fixtures/sedd).
sedd=$(mktemp -d)
trap 'rm -rf "$sedd"' EXIT
mkdir "$sedd/sedd-gpt2vocab"
cp Tests/LTMHarnessTests/Fixtures/sedd-gpt2vocab/config.json "$sedd/sedd-gpt2vocab/"
for f in model.safetensors vocab.json merges.txt; do
  ln -s "$(cd "$shared/fixtures/mdlm-gpt2vocab" && pwd)/$f" "$sedd/sedd-gpt2vocab/$f"
done
models+=(--model "$sedd/sedd-gpt2vocab")

"$bin" zero-shot "${models[@]}" --tasks ptb,wikitext2,lm1b --split test --limit-blocks 2 \
  --data-dir "$shared/data" --threads 1 --batch-blocks 1 --no-cache --output-dir "$out" "$@"

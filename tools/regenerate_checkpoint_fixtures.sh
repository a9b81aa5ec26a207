#!/usr/bin/env bash
# Regenerates the committed LTMCheckpoint test fixtures and their Python-stdlib references.
# Needs only python3 (no torch) and ../shared beside the package root (or LTM_BENCH_SHARED).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${LTM_BENCH_SHARED:-$root/../shared}"
out="$root/Tests/LTMCheckpointTests/Fixtures"
tools="$root/tools"

python3 "$tools/make_torch_fixtures.py" "$out"
python3 "$tools/make_safetensors_fixtures.py" "$out"
for p in p2 p4; do
  python3 "$tools/dump_torch_checkpoint.py" "$out/synthetic-$p.pt" "$out/synthetic-$p.json" --label "synthetic-$p.pt"
done
for m in ltm-micro ltm-gpt2vocab; do
  python3 "$tools/dump_torch_checkpoint.py" "$shared/fixtures/$m/ckpt.pt" "$out/$m-ckpt.json" --label "$m/ckpt.pt"
done
python3 "$tools/dump_safetensors.py" "$out/safetensors-reference.json" \
  "gpt2-tiny/model.safetensors=$shared/fixtures/gpt2-tiny/model.safetensors" \
  "mdlm-micro/model.safetensors=$shared/fixtures/mdlm-micro/model.safetensors" \
  "dtypes.safetensors=$out/dtypes.safetensors" \
  "sharded/model-00001-of-00002.safetensors=$out/sharded/model-00001-of-00002.safetensors" \
  "sharded/model-00002-of-00002.safetensors=$out/sharded/model-00002-of-00002.safetensors"

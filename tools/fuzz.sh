#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in Fuzz/ (one per parser that reads files users did not make):
#   tools/fuzz.sh [TARGET|all] [SECONDS]      (default: all, 30 s each)
# Targets: FuzzSafetensors FuzzPickle FuzzTorchZip FuzzNPY FuzzTokenizer FuzzTiktoken FuzzTaskYAML FuzzFewShotTask
#          FuzzFewShotRows FuzzResults FuzzCacheLine
# Each runs with AddressSanitizer, a 10 s per-input timeout and a 2 GB memory limit, from a corpus seeded with the
# fixtures (kept in .build/fuzz/corpus/TARGET, so a campaign continues where the last one stopped). A crash, timeout
# or out-of-memory leaves its input in .build/fuzz/artifacts/TARGET/ and makes the script exit 1; the input becomes a
# regression test. The targets are built only with LTM_BENCH_FUZZ=1 (Package.swift), into .build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
shared="${LTM_BENCH_SHARED:-$root/../shared}"
all=(FuzzSafetensors FuzzPickle FuzzTorchZip FuzzNPY FuzzTokenizer FuzzTiktoken FuzzTaskYAML FuzzFewShotTask
  FuzzFewShotRows FuzzResults FuzzCacheLine)
which="${1:-all}"
seconds="${2:-30}"
if [[ "$which" == all ]]; then targets=("${all[@]}"); else targets=("$which"); fi
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "error: unknown fuzz target '$t' (one of: ${all[*]})" >&2; exit 1; }
done

# SwiftPM renames an executable's entry point and links `main` to it, so libFuzzer's own main cannot be used: the
# targets call LLVMFuzzerRunDriver from their main, linked against libFuzzer without its main. Coverage is what
# -sanitize=fuzzer would instrument.
nomain=$(ls /opt/swift/usr/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1 || true)
if [[ -z "$nomain" ]]; then
  nomain=$(find "$(dirname "$(dirname "$(command -v swiftc)")")" -name 'libclang_rt.fuzzer_no_main-x86_64.a' | head -1)
fi
[[ -n "$nomain" ]] || { echo "error: libclang_rt.fuzzer_no_main-x86_64.a not found in the Swift toolchain" >&2; exit 1; }
build=(swift build -c release --build-path .build/fuzz -Xswiftc -enable-testing -Xswiftc -sanitize=address
  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xlinker "$nomain" -Xlinker -lstdc++)
for t in "${targets[@]}"; do
  echo "building $t" >&2
  if ! LTM_BENCH_FUZZ=1 "${build[@]}" --product "$t" >".build/fuzz-build.log" 2>&1; then
    grep -E "error" ".build/fuzz-build.log" | head -5 >&2
    echo "error: building fuzz target $t failed (log: .build/fuzz-build.log)" >&2
    exit 1
  fi
done

# Seed corpora: small real inputs of each format (the corpus folder keeps whatever earlier campaigns found).
seed() {  # seed TARGET FILE...
  local dir=".build/fuzz/corpus/$1"
  mkdir -p "$dir"
  shift
  for f in "$@"; do [[ -f "$f" ]] && head -c 65536 "$f" >"$dir/seed-$(basename "$f")"; done
  return 0
}
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
python3 - "$shared" "$seeds" <<'PY'
import json, sys, zipfile, struct
shared, out = sys.argv[1], sys.argv[2]
# The pickle of a real checkpoint, and a small vocabulary + merges pair in the tokenizer target's format.
with zipfile.ZipFile(f"{shared}/fixtures/ltm-micro/ckpt.pt") as z:
    open(f"{out}/data.pkl", "wb").write(z.read("ckpt/data.pkl"))
vocab = json.load(open(f"{shared}/data/gpt2/vocab.json", encoding="utf-8"))
merges = open(f"{shared}/data/gpt2/merges.txt", encoding="utf-8").read().splitlines()[1:41]
small = {k: v for k, v in vocab.items() if v < 256}
for m in merges:
    a, b = m.split(" ")
    small.setdefault(a + b, len(small))
open(f"{out}/tokenizer", "wb").write(json.dumps(small).encode() + b"\0" + ("#version: 0.2\n" + "\n".join(merges) + "\n").encode())
open(f"{out}/tiktoken", "w").write("".join(open(f"{shared}/data/gpt2/gpt2.tiktoken").readlines()[:300]))
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
open(f"{out}/features.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<6d", *range(6)))
PY
seed FuzzSafetensors Tests/LTMCheckpointTests/Fixtures/dtypes.safetensors "$shared/fixtures/mdlm-micro/config.json"
seed FuzzPickle "$seeds/data.pkl"
seed FuzzTorchZip Tests/LTMCheckpointTests/Fixtures/synthetic-p2.pt
seed FuzzNPY "$seeds/features.npy"
seed FuzzTokenizer "$seeds/tokenizer"
seed FuzzTiktoken "$seeds/tiktoken"
seed FuzzTaskYAML tasks/*.yaml tasks/presets/*.yaml tasks/published/*.yaml
seed FuzzFewShotTask tasks/fewshot/*.yaml
head -c 4000 "$shared/data/gsm8k/test.jsonl" >"$seeds/rows.jsonl"
head -c 4000 "$shared/data/ag_news/test.csv" >"$seeds/rows.csv"
head -c 3000 "$shared/data/wikitext/wiki.test.raw" >"$seeds/wiki.raw"
seed FuzzFewShotRows "$seeds/rows.jsonl" "$seeds/rows.csv" "$seeds/wiki.raw" Tests/LTMTasksTests/Fixtures/scientific-papers/pubmed-dataset/val.txt
seed FuzzResults baselines/ci-reference.json Tests/LTMReportsTests/Fixtures/report-results.json
printf '%s\n' '{"key":{"block":0,"model":"m","protocol":"ltm","settings":"","split":"test","task":"ptb","tokens_sha256":"t"},"score":{"index":0,"nll":1.5,"tokens":3}}' >"$seeds/cache.jsonl"
seed FuzzCacheLine "$seeds/cache.jsonl"

# Leaks are not findings (Foundation keeps small allocations for the life of a process); Swift's own backtracer
# would stand between a trap and libFuzzer's crash report.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" SWIFT_BACKTRACE=enable=no
failed=()
for t in "${targets[@]}"; do
  mkdir -p ".build/fuzz/artifacts/$t"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
    -artifact_prefix=".build/fuzz/artifacts/$t/")
  [[ "$t" == FuzzPickle ]] && options+=(-dict=Fuzz/pickle.dict)
  echo "fuzzing $t for ${seconds}s" >&2
  if ! ".build/fuzz/release/$t" "${options[@]}" ".build/fuzz/corpus/$t" > ".build/fuzz/artifacts/$t.log" 2>&1; then
    failed+=("$t")
    grep -E "ERROR|SUMMARY|Test unit written" ".build/fuzz/artifacts/$t.log" | head -5 >&2 || true
  fi
  grep -E "stat::number_of_executed_units|cov: " ".build/fuzz/artifacts/$t.log" | tail -2 | sed "s/^/  $t: /" >&2 || true
done
if ((${#failed[@]})); then
  echo "error: ${#failed[@]} fuzz target(s) found a crash, timeout or out-of-memory: ${failed[*]} (inputs in .build/fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} target(s), no findings" >&2

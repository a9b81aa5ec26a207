#!/usr/bin/env python3
"""Shows that each parity test in the README's "What the tests prove" table can fail: for every row, one golden is
moved just past the tolerance the table states (in a copy of ../shared, or in place in Tests/ and restored
afterwards), the test is run, and it must fail. A test that still passes is reported as toothless.

Needs a built test bundle (`swift build -c release -Xswiftc -enable-testing --build-tests`); only the standard
library is used. First the same tests run unperturbed and must pass (the control). Rows compared with a computed run rather than a golden (merged shards, the two row-kernel
variants, the forced BLAS cores) are not listed: their goldens are produced in the test itself.

usage: python3 tools/perturb_goldens.py [FILTER]   (FILTER: run only the rows whose test name contains it)
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LTM_BENCH_SHARED") or os.path.join(ROOT, "..", "shared")
BACKUP = ".perturb-backup"  # beside a golden while it is perturbed


def edit_json(change):
    def apply(path):
        value = json.load(open(path, encoding="utf-8"))
        change(value)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f)
    return apply


def edit_jsonl(line, change):
    def apply(path):
        rows = [json.loads(x) for x in open(path, encoding="utf-8")]
        change(rows[line])
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
    return apply


def scale_tensor(name, factor, first_only=False):
    """Multiplies an F32 tensor of a safetensors file in place (all elements, or only the first)."""
    def apply(path):
        data = bytearray(open(path, "rb").read())
        n = struct.unpack("<Q", data[:8])[0]
        entry = json.loads(data[8:8 + n])[name]
        assert entry["dtype"] == "F32", entry
        start, end = (8 + n + o for o in entry["data_offsets"])
        values = struct.unpack(f"<{(end - start) // 4}f", data[start:end])
        values = [v * factor if (i == 0 or not first_only) else v for i, v in enumerate(values)]
        data[start:end] = struct.pack(f"<{len(values)}f", *values)
        open(path, "wb").write(bytes(data))
    return apply


def scaled(value, factor):
    """A nested list of numbers, every number × factor."""
    return [scaled(v, factor) for v in value] if isinstance(value, list) else value * factor


def add_to_int(name, index, delta):
    """Adds delta to one element of an I64 tensor of a safetensors file."""
    def apply(path):
        data = bytearray(open(path, "rb").read())
        n = struct.unpack("<Q", data[:8])[0]
        entry = json.loads(data[8:8 + n])[name]
        assert entry["dtype"] == "I64", entry
        offset = 8 + n + entry["data_offsets"][0] + 8 * index
        value = struct.unpack("<q", data[offset:offset + 8])[0]
        data[offset:offset + 8] = struct.pack("<q", value + delta)
        open(path, "wb").write(bytes(data))
    return apply


def case_field(section, key, change, index=0):
    return edit_json(lambda g: g[section]["cases"][index].__setitem__(key, change(g[section]["cases"][index][key])))


# (test filter, "shared" or "repo", file, how it is perturbed, the perturbation in words)
ROWS = [
    ("GPT2ParityTests/testBlockNLLMatchesTransformersUnderBothLayouts", "shared", "fixtures/gpt2-tiny/expected.json",
     edit_json(lambda g: g["zero_shot_first_blocks"]["ltm"]["nll_sum_per_block"].__setitem__(0, g["zero_shot_first_blocks"]["ltm"]["nll_sum_per_block"][0] * (1 + 2e-5))),
     "block 0 NLL × (1 + 2e-5)"),
    ("ZeroShotEndToEndTests/testPTBValidationMatchesTransformersGoldenUnderBothProtocols", "shared", "fixtures/gpt2-tiny/expected.json",
     edit_json(lambda g: g["zero_shot_first_blocks"]["ltm"].__setitem__("ppl_block_mean", g["zero_shot_first_blocks"]["ltm"]["ppl_block_mean"] * (1 + 2e-5))),
     "ppl_block_mean × (1 + 2e-5)"),
    ("KernelSelectionCommandLineTests/testParityHoldsUnderForcedCoreTypes", "shared", "fixtures/gpt2-tiny/expected.json",
     edit_json(lambda g: g["zero_shot_first_blocks"]["ltm"]["nll_sum_per_block"].__setitem__(1, g["zero_shot_first_blocks"]["ltm"]["nll_sum_per_block"][1] * (1 + 2e-5))),
     "block 1 NLL × (1 + 2e-5)"),
    ("LTMMicroParityTests/testTrajectoryAndFinals", "shared", "fixtures/ltm-micro/expected.safetensors",
     scale_tensor("block_ppl_final", 1 + 2e-5, first_only=True), "block 0 final PPL × (1 + 2e-5)"),
    ("LTMGPT2VocabParityTests/testGradientAtStart", "shared", "fixtures/ltm-gpt2vocab/expected.safetensors",
     scale_tensor("grad_mu_at_start", 1 + 2e-5), "∂/∂μ × (1 + 2e-5)"),
    ("MDLMMicroParityTests/testLogProbsAndLoss", "shared", "fixtures/mdlm-micro/expected.safetensors",
     scale_tensor("loss_per_position", 1 + 2e-6), "per-position loss × (1 + 2e-6)"),
    ("MDLMCheckpointTests/testTimeConditionedForwardMatchesTheReferenceAtTwoSigmas", "repo",
     "Tests/LTMModelsTests/Fixtures/mdlm/timecond/expected.safetensors", scale_tensor("logits_0", 1 + 1e-4), "logits at σ0 × (1 + 1e-4)"),
    ("MDLMGPT2VocabParityTests/testMonteCarloBoundMatchesReference", "shared", "fixtures/mdlm-gpt2vocab/expected.json",
     edit_json(lambda g: g["nll_per_token_mc"].__setitem__("values", [v + 0.7 for v in g["nll_per_token_mc"]["values"]])),
     "reference NELBO/token + 0.7 nats"),
    ("MDLMZeroShotTests/testMDLMNumberMatchesTheReferenceNELBO", "shared", "fixtures/mdlm-gpt2vocab/expected.json",
     edit_json(lambda g: g["nll_per_token_mc"].__setitem__("values", [v + 0.7 for v in g["nll_per_token_mc"]["values"]])),
     "reference NELBO/token + 0.7 nats"),
    ("MDLMCheckpointTests/testLightningCheckpointLoadsTheEMAWeights", "repo",
     "Tests/LTMModelsTests/Fixtures/mdlm/lightning-expected.safetensors", scale_tensor("ema_logits", 1 + 2e-5), "EMA logits × (1 + 2e-5)"),
    ("MDLMSamplingTests/testTrajectoryMatchesReferenceTokenForToken", "repo", "Tests/LTMModelsTests/Fixtures/mdlm/sampler.safetensors",
     add_to_int("final", 10, 1), "one final token + 1"),
    ("EncodingParityTests/testEveryPipelineExampleMatchesTiktoken", "shared", "fixtures/zero-shot-pipeline/ptb-test.jsonl",
     edit_jsonl(0, lambda r: r["ids"].__setitem__(0, r["ids"][0] + 1)), "one token id + 1"),
    ("DetokenizerRuleTests/testEveryRuleMatchesThePythonReference", "repo", "Tests/LTMTasksTests/Fixtures/reference-text-goldens.json",
     case_field("detokenizers", "expected", lambda s: s + " "), "one expected string + a space"),
    ("FewShotPromptPinTests/testLTMFormat", "repo", "Tests/LTMTasksTests/Fixtures/reference-text-goldens.json",
     edit_json(lambda g: g["gsm8k_prompts"]["ltm"].__setitem__("generation_prompt", g["gsm8k_prompts"]["ltm"]["generation_prompt"].replace("Question: ", "Question:", 1))),
     "one space dropped from the LTM prompt"),
    ("FewShotLMEvalParityTests", "repo", "Tests/LTMHarnessTests/Fixtures/lmeval-prompts.json",
     edit_json(lambda g: g["cases"][1].__setitem__("context", g["cases"][1]["context"].replace("  ", " ", 1))),
     "lm-eval's double space in a LAMBADA demonstration made single"),
    ("FewShotLMEvalParityTests/testLambadaLogLikelihoodsEqualLMEvalAtZeroAndTwoShots", "repo", "Tests/LTMHarnessTests/Fixtures/lmeval-lambada.json",
     edit_json(lambda g: g["by_shots"]["2"]["cases"][0].__setitem__("loglikelihood", g["by_shots"]["2"]["cases"][0]["loglikelihood"] - max(2e-4, 2e-7 * abs(g["by_shots"]["2"]["cases"][0]["loglikelihood"])))),
     "one lm-eval log-likelihood − max(2e-4, 2e-7·|x|)"),
    ("FewShotRollingParityTests/testWikitextEqualsLMEvalPageByPage", "repo", "Tests/LTMHarnessTests/Fixtures/lmeval-wikitext.json",
     edit_json(lambda g: g.__setitem__("word_perplexity", g["word_perplexity"] * (1 + 2e-6))), "lm-eval's word perplexity × (1 + 2e-6)"),
    ("ZeroShotDatasetPipelineTests/testEveryNewColumnMatchesTheReferencePipeline", "repo", "Tests/LTMTasksTests/Fixtures/zero-shot-datasets.json",
     edit_json(lambda g: g["datasets"]["lambada"]["detok_chunks"].__setitem__(3, "0" * 64)), "one chunk hash of LAMBADA's detokenized text"),
    ("GPT2FewShotTests/testLoglikelihoodsMatchTransformers", "repo", "Tests/LTMModelsTests/Fixtures/fewshot-gpt2/expected.json",
     edit_json(lambda g: g["loglikelihoods"][0].__setitem__("logprob", g["loglikelihoods"][0]["logprob"] - 2e-5 * max(1, abs(g["loglikelihoods"][0]["logprob"])))),
     "one log-likelihood − 2e-5·max(1, |x|)"),
    ("SEDDPretrainedParityTests/testScoreMatchesTheAuthorsForward", "repo", "Tests/LTMModelsTests/Fixtures/sedd/hf/expected.json",
     edit_json(lambda g: g["score"].__setitem__("log_score", scaled(g["score"]["log_score"], 1 + 2e-6))), "the authors' log score × (1 + 2e-6)"),
    ("SEDDPretrainedParityTests/testLossMatchesTheAuthorsLossFunction", "repo", "Tests/LTMModelsTests/Fixtures/sedd/hf/expected.json",
     edit_json(lambda g: g["loss"][1].__setitem__("loss", scaled(g["loss"][1]["loss"], 1 + 2e-6))), "per-position DWDSE of one draw × (1 + 2e-6)"),
    ("SEDDTrainingRunParityTests/testLossMatchesTheAuthorsLossFunction", "repo", "Tests/LTMModelsTests/Fixtures/sedd/run/expected.json",
     edit_json(lambda g: g["loss"][2]["sum"].__setitem__(0, g["loss"][2]["sum"][0] * (1 + 2e-6))), "one draw's DWDSE sum × (1 + 2e-6)"),
    ("SEDDTrainingRunParityTests/testSamplersMatchTheAuthorsAtEveryStep", "repo", "Tests/LTMModelsTests/Fixtures/sedd/run/expected.json",
     edit_json(lambda g: g["samplers"]["euler"]["trajectory"][1][0].__setitem__(7, (g["samplers"]["euler"]["trajectory"][1][0][7] + 1) % 32)),
     "one Euler token after step 1 + 1"),
    ("MauveParityTests/testDefaultSettings", "shared", "fixtures/mauve-synthetic/expected.json",
     edit_json(lambda g: g["runs"]["defaults"].__setitem__("mauve", g["runs"]["defaults"]["mauve"] + 2e-6)), "MAUVE + 2e-6"),
    ("GPT2FeaturesTests/testFeaturesMatchTransformers", "repo", "Tests/LTMModelsTests/Fixtures/featurizer/expected.json",
     edit_json(lambda g: g["features"][0].__setitem__(0, g["features"][0][0] + 2e-5)), "one feature + 2e-5"),
    ("MauveGenerationTests/testGenerativePerplexityMatchesTransformers", "repo", "Tests/LTMHarnessTests/Fixtures/generative-perplexity.json",
     edit_json(lambda g: g.__setitem__("token_weighted", g["token_weighted"] * (1 + 2e-6))), "token-weighted gen-PPL × (1 + 2e-6)"),
]


def run_test(test_filter, shared):
    env = dict(os.environ, LTM_BENCH_SHARED=shared)
    result = subprocess.run(["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--skip-build", "--filter", test_filter],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    return result.returncode


def restore_interrupted_run():
    """A run killed mid-row leaves the repository golden it perturbed beside its backup: put the backup back."""
    for _, where, relative, _, _ in ROWS:
        path = os.path.join(ROOT, relative)
        if where == "repo" and os.path.exists(path + BACKUP):
            os.replace(path + BACKUP, path)
            print(f"restored {relative} from an interrupted run")


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    restore_interrupted_run()
    toothless = []
    with tempfile.TemporaryDirectory() as scratch:
        shared_copy = os.path.join(scratch, "shared")
        shutil.copytree(SHARED, shared_copy, symlinks=True)
        rows = [row for row in ROWS if only in row[0]]
        # The control: unperturbed, the same tests pass, so a failure below is the perturbation's doing.
        if run_test("|".join(row[0] for row in rows), shared_copy) != 0:
            sys.exit("error: the listed tests fail without any perturbation; fix them first")
        for test_filter, where, relative, perturb, what in rows:
            path = os.path.join(shared_copy if where == "shared" else ROOT, relative)
            shutil.copyfile(path, path + BACKUP)
            try:
                perturb(path)
                rc = run_test(test_filter, shared_copy)
            finally:
                os.replace(path + BACKUP, path)
            verdict = "fails, as it must" if rc != 0 else "STILL PASSES"
            print(f"{test_filter}: {what} in {relative} -> {verdict}", flush=True)
            if rc == 0:
                toothless.append(test_filter)
    if toothless:
        sys.exit(f"error: {len(toothless)} test(s) did not notice a perturbed golden: {', '.join(toothless)}")
    print("every listed test fails against its perturbed golden")


if __name__ == "__main__":
    main()

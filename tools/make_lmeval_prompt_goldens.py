#!/usr/bin/env python3
"""Few-shot prompt and request goldens from lm-evaluation-harness itself (Tests/LTMHarnessTests/Fixtures/
lmeval-prompts.json, FewShotLMEvalParityTests).

For the tasks whose format ltm-bench takes from lm-eval (``lambada_openai``, ``arithmetic_2da`` from the raw GPT-3
file, which lm-eval's ``process_docs`` normalises, and ``gsm8k``, which is lm-eval's ``gsm8k``), this script loads lm-eval's own task YAML as installed, builds its ``ConfigurableTask`` over local copies
of the documents (``dataset_path: json``; the hub is not needed), and records what lm-eval makes of each case:

- ``fewshot_context(doc, num_fewshot)`` (description, demonstrations, delimiters, the query), with the demonstrations
  pinned: the few-shot split holds exactly the chosen documents and the sampler is ``first_n``, so the only thing
  compared is how lm-eval assembles a prompt from given shots (ltm-bench draws its shots with its own seeded sampler);
- ``construct_requests``: the (context, continuation) of a loglikelihood request, or the context and ``until`` of a
  generation request;
- ``TemplateLM._encode_pair`` on that pair with the GPT-2 tokenizer of ``../shared/data/gpt2`` (transformers
  ``GPT2TokenizerFast.from_pretrained`` on that folder's vocab.json + merges.txt): trailing context whitespace moved to the continuation, the
  continuation's tokens = encode(context + continuation) minus encode(context).

usage: make_lmeval_prompt_goldens.py SHARED_DIR OUT.json   (lm_eval, transformers, in a throwaway venv)
"""

import json
import os
import sys
import tempfile
import types

import lm_eval
import transformers
from lm_eval.api.model import TemplateLM
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks._yaml_loader import load_yaml

# (ltm-bench task, lm-eval task YAML, documents file, document index, few-shot documents file, shot indices)
CASES = [
    ("lambada_openai", "lambada/lambada_openai.yaml", "lambada/lambada_test.jsonl", 0, "lambada/lambada_test.jsonl", []),
    ("lambada_openai", "lambada/lambada_openai.yaml", "lambada/lambada_test.jsonl", 3, "lambada/lambada_test.jsonl", [10, 11]),
    ("arithmetic_2da", "arithmetic/arithmetic_2da.yaml", "gpt3_arithmetic/two_digit_addition.jsonl", 0,
     "gpt3_arithmetic/two_digit_addition.jsonl", []),
    ("arithmetic_2da", "arithmetic/arithmetic_2da.yaml", "gpt3_arithmetic/two_digit_addition.jsonl", 5,
     "gpt3_arithmetic/two_digit_addition.jsonl", [1, 2, 3]),
    ("gsm8k", "gsm8k/gsm8k.yaml", "gsm8k/test.jsonl", 0, "gsm8k/train.jsonl", [2139, 2514, 1352, 5081, 88]),
    ("gsm8k", "gsm8k/gsm8k.yaml", "gsm8k/test.jsonl", 7, "gsm8k/train.jsonl", [0, 1]),
]


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, documents):
    with open(path, "w", encoding="utf-8") as f:
        for d in documents:
            f.write(json.dumps(d) + "\n")


def lmeval_task(task_yaml, doc, shots, scratch):
    # lm-eval's own loader: resolves `include:` and `!function` (arithmetic's process_docs normalisation).
    config = load_yaml(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", task_yaml))
    test, train = os.path.join(scratch, "test.jsonl"), os.path.join(scratch, "shots.jsonl")
    write_jsonl(test, [doc])
    write_jsonl(train, shots or [doc])  # an empty few-shot split is not allowed; 0-shot never reads it
    config.update({"dataset_path": "json", "dataset_name": None, "dataset_kwargs": {"data_files": {"test": test, "train": train}},
                   "test_split": "test", "fewshot_split": "train", "training_split": None, "validation_split": None,
                   "fewshot_config": {"sampler": "first_n"}, "num_fewshot": len(shots)})
    return ConfigurableTask(config=config)


def encoder(shared):
    tokenizer = transformers.GPT2TokenizerFast.from_pretrained(os.path.join(shared, "data", "gpt2"))
    assert tokenizer.encode("Hello world") == [15496, 995], "the GPT-2 vocabulary did not load"
    # TemplateLM._encode_pair reads only these two attributes (a causal model's path).
    return types.SimpleNamespace(backend="causal", tok_encode=lambda s, **_: tokenizer.encode(s, add_special_tokens=False))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    shared, out_path = sys.argv[1:]
    lm = encoder(shared)
    cases = []
    for name, task_yaml, docs_file, index, shots_file, shot_ids in CASES:
        doc = rows(os.path.join(shared, "data", docs_file))[index]
        pool = rows(os.path.join(shared, "data", shots_file))
        with tempfile.TemporaryDirectory() as scratch:
            task = lmeval_task(task_yaml, doc, [pool[i] for i in shot_ids], scratch)
            lm_doc = task.test_docs()[0]
            context = task.fewshot_context(lm_doc, num_fewshot=len(shot_ids))
            instances = task.construct_requests(lm_doc, context, metadata=(name, 0, 1))
        instance = instances[0] if isinstance(instances, list) else instances
        case = {"task": name, "lm_eval_task": task_yaml, "document": index, "shots": shot_ids,
                "same_split": docs_file == shots_file, "context": context}
        if task.OUTPUT_TYPE == "loglikelihood":
            request_context, continuation = instance.arguments
            context_tokens, continuation_tokens = TemplateLM._encode_pair(lm, request_context, continuation)
            case.update({"request_context": request_context, "continuation": continuation,
                         "context_tokens": context_tokens, "continuation_tokens": continuation_tokens})
        else:
            request_context, generation_kwargs = instance.arguments
            case.update({"request_context": request_context, "until": generation_kwargs["until"]})
        cases.append(case)
    golden = {"generator": "tools/make_lmeval_prompt_goldens.py", "lm_eval": lm_eval.__version__,
              "transformers": transformers.__version__, "cases": cases}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {out_path}: {len(cases)} cases from lm_eval {lm_eval.__version__}")


if __name__ == "__main__":
    main()

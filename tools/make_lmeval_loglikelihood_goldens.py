#!/usr/bin/env python3
"""Log-likelihood goldens from lm-evaluation-harness itself, on the shared gpt2-tiny checkpoint (lm-eval's ``HFLM``:
transformers, float32, CPU, batch size 1):

1. ``wikitext`` (Tests/LTMHarnessTests/Fixtures/lmeval-wikitext.json, FewShotRollingParityTests).
2. ``lambada_openai`` at 0 and 2 shots (Tests/LTMHarnessTests/Fixtures/lmeval-lambada.json,
   FewShotLMEvalParityTests): shot sampling differs between the tools by design, so the demonstrations are pinned and
   replayed: document i's two shots are documents (i + 7) and (i + 13) of the test file, lm-eval's task reads exactly
   them (``first_n`` over a few-shot split holding only those), and ltm-bench builds its prompt from the same two.
   Recorded per document: lm-eval's context, its log-likelihood and ``is_greedy`` (``HFLM.loglikelihood`` on the
   task's own ``construct_requests``), and per shot count the perplexity and accuracy lm-eval aggregates from them.

lm-eval's own ``wikitext`` task (``lm_eval/tasks/wikitext/wikitext.yaml`` as installed, loaded by lm-eval's YAML loader,
so its ``wikitext_detokenizer`` and ``process_results`` are lm-eval's) runs through ``lm_eval.evaluator.evaluate``
with lm-eval's ``HFLM`` on the shared ``gpt2-tiny`` checkpoint (transformers, float32, CPU, batch size 1) over the
first LIMIT pages of WikiText-2 raw test. Only the data source is replaced: the task reads a local JSON Lines file of
pages instead of the hub's ``EleutherAI/wikitext_document_level``, written here from ``../shared/data/wikitext/
wiki.test.raw`` by that dataset's generator, restated (its loading script cannot run under ``datasets`` 4+):

    data = f.read().split("\\n"); for each line: rline = line.replace("= = =", "===").replace("= =", "==").strip();
    a line with rline.startswith("= ") and rline.strip().endswith(" =") starts a page; a page is "\\n".join(its
    lines), kept when page.strip(), and the last page is always kept.

The golden: per page, lm-eval's log-likelihood (the sum over its rolling windows), words and bytes from its
``process_results``, and the aggregated word_perplexity, byte_perplexity and bits_per_byte lm-eval reports.

usage: make_lmeval_loglikelihood_goldens.py SHARED_DIR FIXTURES_DIR [LIMIT]   (lm_eval 0.4.x, torch, transformers,
       accelerate; throwaway venv)
"""

import json
import os
import sys
import tempfile

import lm_eval
from lm_eval.api.metrics import mean, perplexity
from lm_eval.api.task import ConfigurableTask
from lm_eval.evaluator import evaluate
from lm_eval.models.huggingface import HFLM
from lm_eval.tasks._yaml_loader import load_yaml


def wikitext_pages(path):
    pages = []
    with open(path, encoding="utf-8") as f:
        ret = []
        for line in f.read().split("\n"):
            rline = line.replace("= = =", "===").replace("= =", "==").strip()
            if rline.startswith("= ") and rline.strip().endswith(" ="):
                page = "\n".join(ret)
                if page.strip():
                    pages.append(page)
                ret = []
            ret.append(line)
        pages.append("\n".join(ret))
    return pages


def wikitext_golden(shared, model, limit):
    pages = wikitext_pages(os.path.join(shared, "data/wikitext/wiki.test.raw"))
    with tempfile.TemporaryDirectory() as scratch:
        data = os.path.join(scratch, "pages.jsonl")
        with open(data, "w", encoding="utf-8") as f:
            for page in pages:
                f.write(json.dumps({"page": page}) + "\n")
        config = load_yaml(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "wikitext", "wikitext.yaml"))
        config.update({"dataset_path": "json", "dataset_name": None, "dataset_kwargs": {"data_files": {"test": data}},
                       "training_split": None, "validation_split": None, "test_split": "test"})
        task = ConfigurableTask(config=config)
        results = evaluate(lm=model, task_dict={"wikitext": task}, limit=limit, log_samples=True)
    samples = sorted(results["samples"]["wikitext"], key=lambda s: s["doc_id"])
    metrics = results["results"]["wikitext"]
    return {
        "lm_eval_version": lm_eval.__version__, "task_version": config.get("metadata", {}).get("version"),
        "model": "fixtures/gpt2-tiny", "limit": limit, "pages_in_split": len(pages),
        "documents": [{
            "doc_id": s["doc_id"], "loglikelihood": s["word_perplexity"][0], "words": s["word_perplexity"][1],
            "bytes": s["byte_perplexity"][1],
        } for s in samples],
        "word_perplexity": metrics["word_perplexity,none"], "byte_perplexity": metrics["byte_perplexity,none"],
        "bits_per_byte": metrics["bits_per_byte,none"],
    }


def lambada_golden(shared, model, documents):
    with open(os.path.join(shared, "data/lambada/lambada_test.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    by_shots = {}
    for k in (0, 2):
        cases = []
        for i in range(documents):
            shot_ids = [(i + 7) % len(rows), (i + 13) % len(rows)][:k]
            with tempfile.TemporaryDirectory() as scratch:
                test, train = os.path.join(scratch, "test.jsonl"), os.path.join(scratch, "shots.jsonl")
                for path, docs in ((test, [rows[i]]), (train, [rows[j] for j in shot_ids] or [rows[i]])):
                    with open(path, "w", encoding="utf-8") as f:
                        f.writelines(json.dumps(d) + "\n" for d in docs)
                config = load_yaml(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "lambada", "lambada_openai.yaml"))
                config.update({"dataset_path": "json", "dataset_name": None,
                               "dataset_kwargs": {"data_files": {"test": test, "train": train}}, "test_split": "test",
                               "fewshot_split": "train", "training_split": None, "validation_split": None,
                               "fewshot_config": {"sampler": "first_n"}, "num_fewshot": k})
                task = ConfigurableTask(config=config)
                doc = task.test_docs()[0]
                context = task.fewshot_context(doc, num_fewshot=k)
                instances = task.construct_requests(doc, context, metadata=("lambada_openai", i, 1))
                instances = instances if isinstance(instances, list) else [instances]
                (ll, greedy), = model.loglikelihood(instances)
            cases.append({"document": i, "shots": shot_ids, "context": context, "loglikelihood": ll, "is_greedy": bool(greedy)})
        by_shots[str(k)] = {
            "cases": cases, "perplexity": perplexity([c["loglikelihood"] for c in cases]),
            "acc": mean([1.0 if c["is_greedy"] else 0.0 for c in cases]),
        }
    return {"lm_eval_version": lm_eval.__version__, "model": "fixtures/gpt2-tiny", "documents": documents, "by_shots": by_shots}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    shared, fixtures = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) == 4 else 8
    model = HFLM(pretrained=os.path.join(shared, "fixtures/gpt2-tiny"), dtype="float32", device="cpu", batch_size=1)
    for name, golden in (("lmeval-wikitext.json", wikitext_golden(shared, model, limit)),
                         ("lmeval-lambada.json", lambada_golden(shared, model, 24))):
        with open(os.path.join(fixtures, name), "w") as f:
            json.dump(golden, f, indent=1)
            f.write("\n")
        print(name, json.dumps({k: v for k, v in golden.items() if k not in ("documents", "by_shots")}))


if __name__ == "__main__":
    main()

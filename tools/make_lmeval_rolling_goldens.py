#!/usr/bin/env python3
"""Rolling log-likelihood goldens from lm-evaluation-harness itself (Tests/LTMHarnessTests/Fixtures/
lmeval-wikitext.json, FewShotRollingParityTests).

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

usage: make_lmeval_rolling_goldens.py SHARED_DIR OUT.json [LIMIT]   (lm_eval 0.4.x, torch, transformers; throwaway venv)
"""

import json
import os
import sys
import tempfile

import lm_eval
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


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    shared, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) == 4 else 8
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
        model = HFLM(pretrained=os.path.join(shared, "fixtures/gpt2-tiny"), dtype="float32", device="cpu", batch_size=1)
        results = evaluate(lm=model, task_dict={"wikitext": task}, limit=limit, log_samples=True)
    samples = sorted(results["samples"]["wikitext"], key=lambda s: s["doc_id"])
    metrics = results["results"]["wikitext"]
    golden = {
        "lm_eval_version": lm_eval.__version__, "task_version": config.get("metadata", {}).get("version"),
        "model": "fixtures/gpt2-tiny", "limit": limit, "pages_in_split": len(pages),
        "documents": [{
            "doc_id": s["doc_id"], "loglikelihood": s["word_perplexity"][0], "words": s["word_perplexity"][1],
            "bytes": s["byte_perplexity"][1],
        } for s in samples],
        "word_perplexity": metrics["word_perplexity,none"], "byte_perplexity": metrics["byte_perplexity,none"],
        "bits_per_byte": metrics["bits_per_byte,none"],
    }
    with open(out, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in golden.items() if k != "documents"}))


if __name__ == "__main__":
    main()

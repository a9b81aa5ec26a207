#!/usr/bin/env python3
"""Text goldens from the reference code itself, for LTMTasksTests (DetokenizerRuleTests, FewShotPromptPinTests).

1. Detokenizers: the functions ``wt_detokenizer``, ``ptb_detokenizer``, ``lm1b_detokenizer``, ``lambada_detokenizer``
   and ``scientific_papers_detokenizer`` are taken, unchanged, out of the MDLM authors' ``dataloader.py``
   (kuleshov-group/mdlm) by parsing the file and executing only those function definitions (the module itself imports
   torch, datasets and the network, which these pure string functions do not need), then applied to the inputs
   below. Each input pins one rule of a detokenizer, its quirks included.
2. GSM8K prompts: the prompt-building statements of the LTM authors' ``sampling/gsm8k/sample_gsm8k_incontext.py``
   (LTM) and ``sample_gsm8k_gpt_incontext.py`` (GPT-2), at commit b6afdcc of the official history (preserved in
   hohooio823/Latent-LLM, see ../shared/docs/ltm-model-and-protocols.md §0), are taken out of the scripts the same
   way (every assignment to ``question_prompt``, ``answer_prompt``, ``join_by``, ``qapairs_context_formatted``,
   ``in_context_prompt``, ``question_text`` and ``prompt``, in source order) and executed with GSM8K test document
   0 as the question and the train documents the harness draws for it with seed 0 as ``qapairs_context`` (the
   authors draw their shots with ``random.sample`` from the test file; the harness's shot sampler is pinned in
   FewShotRunnerTests, this golden pins the text built from the shots).

No third-party package is needed. The reference checkouts are passed in (this machine reaches GitHub through a
mirror; ``git clone https://github.com/kuleshov-group/mdlm`` and ``git clone https://github.com/hohooio823/Latent-LLM
&& git -C Latent-LLM checkout b6afdcc`` give the same files).

usage: make_reference_text_goldens.py MDLM_CHECKOUT LATENT_LLM_CHECKOUT_AT_b6afdcc SHARED_DIR OUT.json
"""

import ast
import json
import os
import subprocess
import sys

DETOKENIZER_FUNCTIONS = {
    "wikitext": "wt_detokenizer",
    "ptb": "ptb_detokenizer",
    "lm1b": "lm1b_detokenizer",
    "lambada": "lambada_detokenizer",
    "scientific_papers": "scientific_papers_detokenizer",
}

# (detokenizer, input, the rule it pins). The expected outputs are what the reference functions return.
DETOKENIZER_CASES = [
    ("wikitext", "the dogs ' bone", "rule 1: plural possessive"),
    ("wikitext", "a /' 5/ b ' 5 c", "rule 2: the literal-slash quirk"),
    ("wikitext", "1 @-@ 2 @,@ 000 @.@ 5", "rules 3-5: number separators"),
    ("wikitext", "a : b ; c . d ! e ? f , g", "rules 6-11: punctuation"),
    ("wikitext", "f ( x ( y ) z ) w ( open", "rule 12: first closer wins, unmatched opener kept"),
    ("wikitext", "[ \t x  ] { y } {z", "rules 13-14: square and curly brackets"),
    ("wikitext", "he said \" hi there \" and \" bye", "rule 15: double quotes"),
    ("wikitext", "the ' old ' one 's", "rule 16 then 24"),
    ("wikitext", "(\u00a0x\u00a0) (\u001cy\u001f) (\u200bz)", "rule 12: Python \\s includes NBSP and U+001C-U+001F, not U+200B"),
    ("wikitext", " = = = = Deep = = = = \n", "rules 17-19 and 21"),
    ("wikitext", " = = Heading = = \n", "rule 19: section heading"),
    ("wikitext", "x = = = y = = z", "rules 18-19"),
    ("wikitext", "12 \u00b0 C and 5 \u00b0", "rule 20: degree sign"),
    ("wikitext", "end . \n start", "rules 8, 21, 22"),
    ("wikitext", "in N N years N", "rule 23: a single pass"),
    ("wikitext", "John 's car", "rule 24"),
    ("wikitext", "dogs '\u0301 x", "code points, not graphemes: a combining mark after the quote"),
    ("wikitext", "caf\u00e9 (  e\u0301  )", "no normalisation"),
    ("wikitext", "", "empty line"),
    ("wikitext", "\n", "lone newline"),
    ("wikitext", "x N N N N y", "one pass: every other N of a run survives"),
    ("ptb", "abc 's car", "rule 1"),
    ("ptb", "the dogs ' bone", "rule 2"),
    ("ptb", "do n't", "rule 3"),
    ("ptb", "a \n b", "rule 4"),
    ("ptb", "1\\/2 and a\\/b", "rule 5"),
    ("ptb", "in N N N N years", "rule 6"),
    ("ptb", "x " + "N " * 25 + "y", "rule 6: repeated passes reach every N of a run"),
    ("ptb", "x N N N N y", "rule 6: every N of a run, unlike wikitext"),
    ("ptb", "costs $ N million", "rule 7"),
    ("ptb", "item # N .", "rule 8 (after rule 6)"),
    ("ptb", "<unk> <unk> watching <unk>", "rule 9"),
    ("ptb", "s ' s", "rule 2 needs the trailing space"),
    ("lm1b", "see http : / / www.x.com and https : / / y.org", "rules 1-2"),
    ("lm1b", "he said 'hello and ' bye", "rule 3"),
    ("lm1b", "a b . c . d", "rule 4: the match consumes its trailing space"),
    ("lm1b", "It ends .", "rule 5"),
    ("lm1b", "It ends .\n", "rule 5: $ before a final newline"),
    ("lm1b", "It ends . \n", "rule 5: no match"),
    ("lm1b", "x . y .", "rules 4-5: no word-space before"),
    ("lm1b", "Why ? What ? No", "rules 6-7"),
    ("lm1b", "Wow ! Yes !", "rules 8-9"),
    ("lm1b", "a , b : c ; d / e", "rules 10-13"),
    ("lm1b", "\" quoted words \" and \" \" x", "rule 14"),
    ("lm1b", "' single ' and '  '", "rule 15"),
    ("lm1b", "( paren ) ( a ( b ) c )", "rule 16"),
    ("lm1b", "[ one ] [ a [ b ] ]", "rule 17"),
    ("lm1b", "$ 5 and \u00a3 7", "rules 18-19"),
    ("lm1b", " '\u00e9t\u00e9 '\u00bd '\u0301a '\u0663 '_x '\u2167", "rule 3: Python \\w (letters, No, Nd, Nl, underscore; not Mn)"),
    ("lm1b", " caf\u00e9 . and \u0663\u0664 .", "rules 4-5 with Unicode words"),
    ("lambada", "\u201cHi,\u201d she said.  \n", "curly quotes, strip, leading newline"),
    ("lambada", "\u00a0x\u2028", "Unicode strip"),
    ("scientific_papers", "the ( set ) of @xmath0 , is \" hi \" .", "wt then lm1b"),
    ("scientific_papers", "values 1 @.@ 5 and ' q ' end .", "wt then lm1b"),
]

GSM8K_SCRIPTS = {
    "ltm": "sampling/gsm8k/sample_gsm8k_incontext.py",
    "gpt2": "sampling/gsm8k/sample_gsm8k_gpt_incontext.py",
}
PROMPT_NAMES = {"question_prompt", "answer_prompt", "join_by", "qapairs_context_formatted", "in_context_prompt",
                "question_text", "prompt"}
# Test document 0 with seed 0 draws these train documents (FewShotRunnerTests pins the draw).
GSM8K_SHOT_IDS = [5113, 6204, 2987, 3984, 6500]


def git_head(checkout):
    return subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def detokenizers(mdlm_checkout):
    path = os.path.join(mdlm_checkout, "dataloader.py")
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    wanted = set(DETOKENIZER_FUNCTIONS.values())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    assert {f.name for f in functions} == wanted, f"dataloader.py lacks {wanted - {f.name for f in functions}}"
    namespace = {"re": __import__("re")}
    exec(compile(ast.Module(body=functions, type_ignores=[]), path, "exec"), namespace)
    return {name: namespace[function] for name, function in DETOKENIZER_FUNCTIONS.items()}


def prompt_statements(script_path):
    """The script's assignments to the prompt variables, in source order, as one compiled module."""
    tree = ast.parse(open(script_path, encoding="utf-8").read(), script_path)
    statements = [node for node in ast.walk(tree)
                  if isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name) and node.targets[0].id in PROMPT_NAMES]
    statements.sort(key=lambda node: node.lineno)
    return compile(ast.Module(body=statements, type_ignores=[]), script_path, "exec"), [s.lineno for s in statements]


def gsm8k_prompts(ltm_checkout, shared):
    def rows(path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    test = rows(os.path.join(shared, "data", "gsm8k", "test.jsonl"))
    train = rows(os.path.join(shared, "data", "gsm8k", "train.jsonl"))
    shots = [(train[i]["question"], train[i]["answer"]) for i in GSM8K_SHOT_IDS]
    out = {}
    for family, script in GSM8K_SCRIPTS.items():
        code, lines = prompt_statements(os.path.join(ltm_checkout, script))
        namespace = {"bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>", "qapairs_context": shots,
                     "question": test[0]["question"]}
        exec(code, namespace)
        # LTM fits z on question_text and decodes from prompt = question_text + answer_prompt; the GPT-2 script's
        # question_text already ends with the answer prompt and is what it decodes from.
        generation = namespace["prompt"] if family == "ltm" else namespace["question_text"]
        out[family] = {"script": script, "statement_lines": lines, "fit_context": namespace["question_text"],
                       "generation_prompt": generation}
    return out, GSM8K_SHOT_IDS


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    mdlm, ltm, shared, out_path = sys.argv[1:]
    functions = detokenizers(mdlm)
    cases = [{"detokenizer": d, "input": text, "expected": functions[d](text), "why": why}
             for d, text, why in DETOKENIZER_CASES]
    prompts, shot_ids = gsm8k_prompts(ltm, shared)
    golden = {
        "generator": "tools/make_reference_text_goldens.py",
        "detokenizers": {"source": "kuleshov-group/mdlm dataloader.py", "commit": git_head(mdlm), "cases": cases},
        "gsm8k_prompts": {"source": "mingluzhao/Latent-Thought-Language-Models (history in hohooio823/Latent-LLM)",
                          "commit": git_head(ltm), "test_document": 0, "train_shot_ids": shot_ids, **prompts},
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {out_path}: {len(cases)} detokenizer cases, GSM8K prompts for {', '.join(prompts)}")


if __name__ == "__main__":
    main()

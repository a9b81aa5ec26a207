#!/usr/bin/env python3
"""Few-shot goldens for LTMModelsTests (GPT2FewShotTests) from transformers' GPT2LMHeadModel on the gpt2-tiny fixture.

* loglikelihoods: for a few (context, continuation) token pairs, Σ log_softmax(logits)[continuation] over the
  continuation positions of one forward of context+continuation, and lm-eval's ``is_greedy`` (every continuation
  token is the argmax at its position);
* greedy generation (``do_sample=False, num_beams=1``) with ``max_new_tokens`` and an EOS id;
* beam search (``num_beams=5, num_return_sequences=5, length_penalty=1.0, early_stopping=False``) with the
  sequences and ``sequences_scores`` (Σ logprobs / generated_length ** length_penalty, as ``_beam_search`` of the
  installed transformers computes it). The random tiny model hardly ever emits <|endoftext|>, so one case uses as
  EOS a token that the beams do emit, so a hypothesis finished by it is among those returned.

Token ids come from ``zero-shot-pipeline/wikitext-test.jsonl`` (no tokenizer involved).
Run in a throwaway venv with torch and transformers:
    python tools/make_fewshot_gpt2_goldens.py ../shared Tests/LTMModelsTests/Fixtures/fewshot-gpt2/expected.json
"""

import json
import os
import sys

import torch
import transformers
from transformers import GPT2LMHeadModel


def main():
    shared, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = GPT2LMHeadModel.from_pretrained(os.path.join(shared, "fixtures", "gpt2-tiny"), dtype=torch.float32)
    model.eval()
    lines = [json.loads(l) for l in open(os.path.join(shared, "fixtures", "zero-shot-pipeline", "wikitext-test.jsonl"))]
    texts = [l["ids"] for l in lines if len(l["ids"]) >= 40]

    loglik = []
    pairs = [(texts[0][:30], texts[0][30:34]), (texts[1][:12], texts[1][12:13]), (texts[2][:25], texts[2][25:40]),
             (texts[3][:1], texts[3][1:6])]
    with torch.no_grad():
        for ctx, cont in pairs:
            whole = torch.tensor([ctx + cont])
            logits = model(whole).logits[0, :-1].float()
            logp = torch.log_softmax(logits, dim=-1)
            rows = logp[len(ctx) - 1:]
            target = torch.tensor(cont)
            lp = rows.gather(1, target[:, None])[:, 0]
            greedy = bool((rows.argmax(dim=-1) == target).all())
            loglik.append({"context": ctx, "continuation": cont, "logprob": float(lp.double().sum()),
                           "is_greedy": greedy})
        # An is_greedy = true case: the greedy continuation of a context.
        ctx = texts[4][:20]
        g = model.generate(torch.tensor([ctx]), do_sample=False, num_beams=1, max_new_tokens=4, eos_token_id=None,
                           pad_token_id=50256)
        cont = g[0, len(ctx):].tolist()
        logp = torch.log_softmax(model(torch.tensor([ctx + cont])).logits[0, :-1].float(), dim=-1)[len(ctx) - 1:]
        lp = logp.gather(1, torch.tensor(cont)[:, None])[:, 0]
        loglik.append({"context": ctx, "continuation": cont, "logprob": float(lp.double().sum()),
                       "is_greedy": bool((logp.argmax(-1) == torch.tensor(cont)).all())})

    def beam(prompt, eos, new):
        r = model.generate(torch.tensor([prompt]), do_sample=False, num_beams=5, num_return_sequences=5,
                           length_penalty=1.0, early_stopping=False, max_new_tokens=new, eos_token_id=eos,
                           pad_token_id=50256, output_scores=True, return_dict_in_generate=True)
        seqs, lengths = [], []
        bi = r.beam_indices
        for i in range(5):
            n = int((bi[i] >= 0).sum())
            seqs.append(r.sequences[i, len(prompt):len(prompt) + n].tolist())
        return {"prompt": prompt, "eos": eos, "max_new_tokens": new, "sequences": seqs,
                "scores": [float(s) for s in r.sequences_scores]}

    def greedy(prompt, eos, new):
        g = model.generate(torch.tensor([prompt]), do_sample=False, num_beams=1, max_new_tokens=new, eos_token_id=eos,
                           pad_token_id=50256)
        out = g[0, len(prompt):].tolist()
        if eos in out:
            out = out[:out.index(eos) + 1]
        return {"prompt": prompt, "eos": eos, "max_new_tokens": new, "tokens": out}

    with torch.no_grad():
        prompts = [texts[5][:10], texts[6][:33], texts[7][:18]]
        beams = [beam(prompts[0], 50256, 25), beam(prompts[1], 50256, 30)]
        # A stop token that ends one of the returned hypotheses early (found by trying every token the <|endoftext|>
        # beams of this prompt emit: 19781 is the one whose finished hypothesis makes the top 5).
        eos = 19781
        beams.append(beam(prompts[2], eos, 20))
        assert min(len(s) for s in beams[-1]["sequences"]) < 20, "the stop-token case must return a finished hypothesis"
        greedies = [greedy(prompts[0], 50256, 25), greedy(prompts[2], eos, 20)]

    json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "loglikelihoods": loglik,
               "greedy": greedies, "beam": beams}, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()

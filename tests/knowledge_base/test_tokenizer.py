"""The shared lexicon: domain terms cut whole, colloquial words expanded to official ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import PROJECT_ROOT
from knowledge_base.tokenizer import Lexicon, load_lexicon

LEXICON_DIR = PROJECT_ROOT / "knowledge_base" / "lexicon"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(LEXICON_DIR)


@pytest.mark.parametrize("term", ["异地就医", "门诊慢特病", "长期护理保险", "医保电子凭证", "职工医保", "门诊共济"])
def test_domain_terms_are_single_tokens(lexicon: Lexicon, term: str) -> None:
    assert term in lexicon.tokenize(f"请问{term}怎么办理")


def test_stopwords_and_punctuation_are_dropped(lexicon: Lexicon) -> None:
    tokens = lexicon.tokenize("请问，我想知道怎么办理异地就医备案？")
    assert "请问" not in tokens and "，" not in tokens and "？" not in tokens
    assert {"异地就医备案", "异地", "就医"} <= set(tokens)


def test_full_width_digits_and_latin_letters_are_normalised(lexicon: Lexicon) -> None:
    assert lexicon.tokenize("１２３９３热线") == lexicon.tokenize("12393热线")
    assert "drg" in lexicon.tokenize("ＤＲＧ付费")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("我在外地看病怎么报销", {"异地", "就医", "支付"}),
        ("长护险怎么申请", {"长期护理保险"}),
        ("医保卡丢了", {"社会保障卡", "医保电子凭证"}),
        ("交医保一年多少钱", {"缴费"}),
        ("慢病能报吗", {"门诊慢特病"}),
    ],
)
def test_colloquial_words_expand_to_official_terms(lexicon: Lexicon, question: str, expected: set[str]) -> None:
    assert expected <= set(lexicon.expand(question))


def test_official_terms_already_present_are_not_expanded_again(lexicon: Lexicon) -> None:
    # "特病" inside "门诊慢特病" and "大病" inside "大病保险" are not colloquial here
    assert lexicon.expand("门诊慢特病怎么认定") == []
    assert lexicon.expand("大病保险是什么") == []


def test_the_jieba_folder_holds_only_dictionary_lines(lexicon: Lexicon) -> None:
    # Rasa's JiebaTokenizer loads every file in it: each line must be "词 词频 词性"
    for path in (LEXICON_DIR / "jieba").iterdir():
        assert path.suffix == ".txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            word, freq, tag = line.split(" ")
            assert word and freq.isdigit() and tag.isalpha()


def test_the_lexicon_is_loaded_once(lexicon: Lexicon) -> None:
    assert load_lexicon(Path(LEXICON_DIR)) is lexicon

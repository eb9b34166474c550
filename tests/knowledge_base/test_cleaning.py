"""Cleaning the real corpus: page noise gone, broken lines re-joined, tables kept as readable rows."""

from __future__ import annotations

import pytest

from knowledge_base.cleaning import clean_text
from knowledge_base.loaders import load_document

from .conftest import CORPUS_DIR


def cleaned(stem: str) -> str:
    document = load_document(CORPUS_DIR / f"{stem}.txt")
    return clean_text(document.text, title=document.title)


@pytest.fixture(scope="module")
def nanchang() -> str:
    return cleaned("nanchang-2021-medical-security-plan")


@pytest.fixture(scope="module")
def yunnan() -> str:
    return cleaned("yunnan-2022-medical-security-plan")


@pytest.fixture(scope="module")
def jiangsu() -> str:
    return cleaned("jiangsu-2021-convenience-services-opinion")


@pytest.fixture(scope="module")
def zhoukou() -> str:
    return cleaned("zhoukou-2021-medical-security-plan")


def test_web_page_navigation_and_scan_prompt_are_removed(nanchang: str) -> None:
    for noise in ("您当前所在位置", "访问量", "扫码浏览"):
        assert noise not in nanchang


def test_table_of_contents_is_removed_but_the_chapters_remain(nanchang: str) -> None:
    # "第四章 … 5" only existed in the 目录 with its page number
    assert "供给侧改革 5" not in nanchang
    assert nanchang.count("第一章 规划背景和总体目标") == 1
    assert not any(line.strip() in {"录", "目录", "目 录"} for line in nanchang.split("\n"))


def test_download_disclaimer_and_legal_database_properties_are_removed(yunnan: str) -> None:
    for noise in ("下载文档前请自行甄别", "仅部分预览", "如文档侵犯您的权益", "【制定机关】", "文章属性"):
        assert noise not in yunnan


def test_lines_broken_mid_word_are_rejoined(yunnan: str, jiangsu: str) -> None:
    assert "推进门诊慢特病种认定等事项下放定点医疗机构办理" in jiangsu
    assert "办理时限、办理环节、服务标准" in jiangsu
    assert "关于印发云南省“十四五”全民医疗保障规划的通知" in yunnan
    assert "要巩固基本医疗保险覆盖全民" in yunnan


def test_a_document_number_is_not_glued_to_the_next_line(jiangsu: str) -> None:
    assert "苏医保发〔2021〕65号" in jiangsu.split("\n")


def test_half_width_punctuation_in_chinese_text_becomes_full_width(nanchang: str) -> None:
    assert "截至2020年底，2020年全市参保人数594.8万人，其中职工医保参保人数169.6万人" in nanchang
    assert "生育保险（已合并）" in nanchang
    assert "截至2020年底," not in nanchang


def test_nanchang_indicator_table_rows_are_rebuilt_whole(nanchang: str) -> None:
    lines = nanchang.split("\n")
    assert "3.居民医保政策范围内住院报销比例：2020年基数 65.7%，2025年目标 70%以上，属性 约束性" in lines
    assert "10.电子医保凭证使用率：2020年基数 暂未投入使用，2025年目标 50%以上，属性 预期性" in lines
    caption = lines.index("专栏1 “十四五”时期主要指标与预期指标")
    assert lines[caption + 1].startswith("1.基本医疗保险参保覆盖率：")


def test_zhoukou_table_rows_keep_their_category_and_wrapped_cells(zhoukou: str) -> None:
    lines = zhoukou.split("\n")
    assert "表：主要指标与预期目标" in lines
    # the merged category cell (blank in the source) is carried down; the wrapped cell is joined
    assert "基本医疗保险基金累计结余（亿元）：指标维度 安全持续，2020年 55.87，2025年 保持在合理水平，指标属性 预期性" in lines
    assert "住院费用跨省直接结算率④（%）：指标维度 优质便捷，2020年 ≥30，2025年 ≥80，指标属性 预期性" in lines
    # the header repeated mid-table is not a row
    assert not any(line.startswith("主要指标：") for line in lines)


def test_repeats_of_the_document_title_are_dropped(zhoukou: str) -> None:
    assert "周口市“十四五”医疗保障发展规划" not in zhoukou.split("\n")


def test_clean_text_on_a_small_example() -> None:
    raw = "您当前所在位置: 首页>政策\n\n一、参保缴费\n\n居民医保由个人缴费,政府按规定给予补助(含困难群众资\n\n助参保)。\n- 3 -\n扫码浏览"
    assert clean_text(raw) == "一、参保缴费\n居民医保由个人缴费，政府按规定给予补助（含困难群众资助参保）。"


def test_a_date_with_a_blanked_out_year_ends_its_line() -> None:
    # 阳江's report signs off "20_年12月30日" right before its next part: the part must not be glued to the date.
    yangjiang = cleaned("yangjiang-medical-insurance-work-plan").split("\n")

    assert "20_年12月30日" in yangjiang and "广东省医保对接工作计划8" in yangjiang

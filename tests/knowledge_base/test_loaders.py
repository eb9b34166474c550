"""Loading the corpus folder: every supported format, metadata, and clear per-file errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base.loaders import load_corpus, load_document

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def test_txt_with_metadata_takes_title_and_region_from_the_sidecar(tmp_path: Path) -> None:
    # given
    (tmp_path / "policy.txt").write_text("一、总则\n异地就医直接结算。", encoding="utf-8")
    (tmp_path / "policy.meta.yaml").write_text("title: 测试政策\nregion: 河南省周口市\n", encoding="utf-8")
    # when
    document = load_document(tmp_path / "policy.txt")
    # then
    assert document.title == "测试政策"
    assert document.region == "河南省周口市"
    assert "异地就医直接结算" in document.text


def test_file_without_metadata_is_titled_by_its_name_and_has_no_region(tmp_path: Path) -> None:
    (tmp_path / "新政策.md").write_text("# 标题\n门诊共济保障。", encoding="utf-8")
    document = load_document(tmp_path / "新政策.md")
    assert (document.title, document.region) == ("新政策", "")


def test_gb18030_text_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes("职工医保个人账户".encode("gb18030"))
    assert load_document(tmp_path / "old.txt").text == "职工医保个人账户"


def test_docx_paragraphs_and_tables_are_read_in_order(tmp_path: Path) -> None:
    import docx

    # given a real Word file with a heading, a paragraph and an indicator table
    document = docx.Document()
    document.add_paragraph("第一章 总体目标")
    document.add_paragraph("到2025年，居民医保住院报销比例稳定在70%左右。")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["指标", "2020年", "2025年"]):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["参保率", "95%", "97%"]):
        cell.text = text
    document.add_paragraph("第二章 保障措施")
    document.save(str(tmp_path / "plan.docx"))
    # when
    text = load_document(tmp_path / "plan.docx").text
    # then the table row is one readable line, between the paragraphs around it
    lines = text.split("\n")
    assert lines[1] == "到2025年，居民医保住院报销比例稳定在70%左右。"
    assert lines[2] == "参保率：2020年 95%，2025年 97%"
    assert lines[3] == "第二章 保障措施"


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    from fpdf import FPDF

    # given a real PDF (Chinese when the CJK font the Makefile installs is present)
    pdf = FPDF()
    pdf.add_page()
    if CJK_FONT.exists():
        pdf.add_font("wqy", fname=str(CJK_FONT))
        pdf.set_font("wqy", size=12)
        expected = ["第一章 总则", "异地就医直接结算，门诊慢特病。"]
    else:
        pdf.set_font("Helvetica", size=12)
        expected = ["Chapter 1", "DRG and DIP payment 12393"]
    pdf.multi_cell(0, 10, "\n".join(expected))
    pdf.output(str(tmp_path / "scan.pdf"))
    # when
    text = load_document(tmp_path / "scan.pdf").text
    # then
    for line in expected:
        assert line in text


def test_broken_and_empty_files_are_reported_by_name_while_the_rest_load(tmp_path: Path) -> None:
    # given one good document, a damaged .docx and an empty .txt
    (tmp_path / "good.txt").write_text("长期护理保险制度。", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"this is not a zip file")
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    # when
    loaded = load_corpus(tmp_path)
    # then
    assert [d.doc_id for d in loaded.documents] == ["good"]
    reasons = {error.path.name: error.reason for error in loaded.errors}
    assert set(reasons) == {"broken.docx", "empty.txt"}
    assert "无法读取" in reasons["broken.docx"]
    assert "没有可索引的文字" in reasons["empty.txt"]


def test_malformed_metadata_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "policy.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "policy.meta.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert loaded.documents == []
    assert "policy.meta.yaml" in loaded.errors[0].reason


def test_the_folder_readme_is_not_a_document(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parents[2] / "knowledge_base" / "corpus" / "README.md", tmp_path / "README.md")
    (tmp_path / "policy.txt").write_text("正文。", encoding="utf-8")
    assert [d.doc_id for d in load_corpus(tmp_path).documents] == ["policy"]


@pytest.mark.parametrize("suffix", [".txt", ".md", ".docx", ".pdf"])
def test_every_supported_suffix_is_picked_up_from_the_folder(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"doc{suffix}"
    if suffix == ".docx":
        import docx

        document = docx.Document()
        document.add_paragraph("医保电子凭证")
        document.save(str(path))
    elif suffix == ".pdf":
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.cell(0, 10, "12393")
        pdf.output(str(path))
    else:
        path.write_text("医保电子凭证", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["doc"] and not loaded.errors

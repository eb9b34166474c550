"""Reading the corpus folder: ``load_corpus(corpus_dir) -> CorpusLoad`` (documents plus per-file errors).

A document is any ``.txt``, ``.md``, ``.docx`` or ``.pdf`` file (``README.*`` excepted: it describes the
folder). ``NAME.meta.yaml`` beside it supplies title, issuer, region, date, doc_number, doc_type; without it
the file name is the title and the document has no region. A file that cannot be read or holds no text is
reported in ``CorpusLoad.errors`` while every other file still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge_base.errors import DocumentLoadError
from knowledge_base.tables import render_table
from knowledge_base.types import Document, LoadError

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
_META_FIELDS = ("title", "issuer", "region", "date", "doc_number", "doc_type")


@dataclass(frozen=True)
class CorpusLoad:
    documents: list[Document] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder, in a stable order."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        path
        for path in corpus_dir.iterdir()
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.stem.upper() == "README"
    )


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Every document file of ``corpus_dir`` in, loaded documents and the files that failed (with why) out."""
    documents: list[Document] = []
    errors: list[LoadError] = []
    for path in corpus_files(corpus_dir):
        try:
            documents.append(load_document(path))
        except DocumentLoadError as error:
            errors.append(LoadError(path=path, reason=error.reason))
    return CorpusLoad(documents=documents, errors=errors)


def load_document(path: Path) -> Document:
    """One file (and its optional ``.meta.yaml``) in, a ``Document`` with the raw text out."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DocumentLoadError(path, f"不支持的文件类型 {path.suffix}（支持 {', '.join(SUPPORTED_SUFFIXES)}）")
    try:
        text = reader(path)
    except DocumentLoadError:
        raise
    except Exception as error:  # each library fails its own way on a damaged file; name the file, keep going
        raise DocumentLoadError(path, f"无法读取：{type(error).__name__}: {error}") from error
    if not text.strip():
        raise DocumentLoadError(path, "文件中没有可索引的文字（空文件或扫描件）")
    meta = _read_meta(path)
    return Document(
        doc_id=path.stem,
        title=str(meta.get("title") or path.stem),
        text=text,
        region=str(meta.get("region") or ""),
        issuer=str(meta.get("issuer") or ""),
        date=str(meta.get("date") or ""),
        doc_number=str(meta.get("doc_number") or ""),
        doc_type=str(meta.get("doc_type") or ""),
        source_path=path,
    )


def meta_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.meta.yaml")


def _read_meta(path: Path) -> dict[str, object]:
    meta_path = meta_path_for(path)
    if not meta_path.exists():
        return {}
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise DocumentLoadError(path, f"元数据文件 {meta_path.name} 无法解析：{error}") from error
    if not isinstance(meta, dict):
        raise DocumentLoadError(path, f"元数据文件 {meta_path.name} 应为键值对（title、region …）")
    return {key: meta[key] for key in _META_FIELDS if key in meta}


def _read_plain_text(path: Path) -> str:
    data = path.read_bytes()
    # Government sites still publish GB-encoded text; UTF-8 first because it is strict and never misreads GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentLoadError(path, "无法识别文字编码（应为 UTF-8 或 GB18030）")


def _read_docx(path: Path) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    lines: list[str] = []
    # Walk the body in order so a table stays where it was, between the paragraphs around it.
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            rows = [[cell.text for cell in row.cells] for row in Table(block, document).rows]
            lines.extend(render_table(rows))
    return "\n".join(lines)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


_READERS = {".txt": _read_plain_text, ".md": _read_plain_text, ".docx": _read_docx, ".pdf": _read_pdf}

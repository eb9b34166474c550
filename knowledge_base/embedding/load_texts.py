"""The texts the conversion is checked on: `passage_texts(settings)` and `dev_questions()`.

Passages are the corpus chunks as the index embeds them (`knowledge_base.ingest.build_chunks`); while the
chunker is unavailable, they fall back to the corpus .txt files' paragraphs cut to chunk size.
Questions come from `eval/questions/dev.yaml` (`questions: [{id, question, …}]`), or none if it is absent.
"""

from __future__ import annotations

from pathlib import Path

from hotline.settings import PROJECT_ROOT, Settings

DEV_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.yaml"
FALLBACK_PARAGRAPH_CHARS = 500  # the chunker's upper bound


def passage_texts(settings: Settings) -> list[str]:
    try:
        from knowledge_base.ingest import build_chunks
    except ImportError:
        return corpus_paragraphs(Path(settings.corpus_dir))
    chunks = build_chunks(settings)
    return [getattr(chunk, "index_text", chunk.text) for chunk in chunks] or corpus_paragraphs(
        Path(settings.corpus_dir)
    )


def corpus_paragraphs(corpus_dir: Path) -> list[str]:
    paragraphs = []
    for path in sorted(corpus_dir.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                paragraphs.append(line.strip()[:FALLBACK_PARAGRAPH_CHARS])
    return paragraphs


def dev_questions(path: Path = DEV_QUESTIONS) -> list[str]:
    if not path.is_file():
        return []
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(item["question"]) for item in data.get("questions", []) if item.get("question")]

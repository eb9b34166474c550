"""`hotline eval …`: each evaluation owns its module; this one only mounts them."""

import typer

from eval.assist import app as assist_app
from eval.bench import app as bench_app
from eval.latency import app as latency_app
from eval.load import app as load_app
from eval.nlu import app as nlu_app
from eval.report import app as report_app
from eval.retrieval import app as retrieval_app
from eval.routing import app as routing_app
from eval.threads import app as threads_app

app = typer.Typer(no_args_is_help=True)
app.add_typer(retrieval_app)  # retrieval, calibrate
app.add_typer(routing_app)  # routing (policy questions through the chat API)
app.add_typer(nlu_app)  # nlu, dialogue
app.add_typer(bench_app)  # bench
app.add_typer(latency_app)  # latency
app.add_typer(load_app)  # load (simulated residents, web and WeChat)
app.add_typer(report_app)  # report (everything above in one HTML file)
app.add_typer(threads_app)  # threads (query encoder per backend and thread count)
app.add_typer(assist_app)  # assist (agent desk suggestions)

"""Starts `rasa run` in Rasa's venv with the API token taken from the environment, never from argv.

    .venv-rasa/bin/python bot/rasa_server.py --interface 127.0.0.1 --port 5005 --model … --credentials …

`rasa run --auth-token T` would show T to every user of the machine (`ps`); here RASA_TOKEN is read from
the environment (hotline/processes.py sets it from the settings) and handed to Rasa's own command line parser
inside this process. The log and warning redaction of `connectors.redaction` is installed first, so nothing
Rasa logs carries a resident's message, ID number or phone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BOT_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BOT_DIR), str(BOT_DIR.parent)]  # `connectors` and the stdlib-only `hotline` helpers


def main() -> None:
    token = os.environ.pop("RASA_TOKEN", "")
    if len(token) < 16:
        sys.exit("RASA_TOKEN (at least 16 characters) must be set in the environment: Rasa's API needs it.")
    from connectors import redaction

    redaction.install()
    if os.environ.get("LOG_FORMAT") == "json":
        # JSON lines with the turn's request id (hotline/structured_logs.py) instead of Rasa's coloured text.
        import rasa.utils.io

        from hotline import structured_logs

        structured_logs.install("rasa", "json")
        rasa.utils.io.configure_colored_logging = lambda *args, **kwargs: None
    from rasa.__main__ import main as rasa_main

    # "--auth-token=…": a token may start with "-", which argparse would take for an option.
    sys.argv = ["rasa", "run", "--enable-api", f"--auth-token={token}", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()

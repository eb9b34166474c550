"""Rasa's process keeps residents' words out of its log (issue 9, finding 5): every record and warning is masked,
and the message being handled is blanked out however Rasa quotes it — a name cannot be found by pattern."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hotline.settings import PROJECT_ROOT

# Run apart from pytest: the redaction replaces the process's log record factory and warning printer.
SCRIPT = textwrap.dedent(
    """
    import logging, sys, warnings
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from connectors import redaction

    redaction.install()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    redaction.CURRENT_MESSAGE.set("/张演示")
    # What Rasa said when a message started with "/": the text, the "intent" it read, and escaped in JSON logs.
    warnings.warn("Parsed an intent '张演示' which is not defined in the domain (message '/张演示')", UserWarning)
    logging.getLogger("rasa.core").info('{"event": "rest.message.received", "text": "\\\\u5f20\\\\u6f14\\\\u793a"}')
    logging.getLogger("rasa.core").warning("failed for %s and %s", "360102198503129014", "13800000001")
    try:
        raise ValueError("bad input 身份证360102198503129014")
    except ValueError:
        logging.getLogger("rasa.core").exception("handling failed")
    """
)


def test_rasa_log_lines_and_warnings_hold_no_message_text_id_number_or_phone() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(PROJECT_ROOT / "bot"), str(PROJECT_ROOT)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    output = completed.stdout + completed.stderr
    assert "‹居民消息›" in output and "3601**********9014" in output and "138****0001" in output
    for raw in ("张演示", "\\u5f20\\u6f14\\u793a", "360102198503129014", "13800000001"):
        assert raw not in output, output

"""Code the Rasa server loads (its Python 3.10 venv): the gateway's input channel and log redaction.

Named `connectors`, not `channels`: `channels` is the gateway's package, and both sit on the import path.
"""

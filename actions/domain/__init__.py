"""The bot's own Rasa-free logic: composing answers, rewriting follow-ups, reading phrasing cues.

The casework the gateway shares (records, verification, tickets, audit) lives in the `casework` package.
"""

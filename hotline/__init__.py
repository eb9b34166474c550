"""Cross-cutting pieces of the 12393 policy assistant: settings, privacy masking, the CLI and the launcher."""

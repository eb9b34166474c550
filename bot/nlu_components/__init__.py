"""Custom Rasa NLU components of the 12393 assistant (loaded by Rasa from bot/, its working directory)."""

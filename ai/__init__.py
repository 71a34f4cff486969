"""The AI enhancement service: narration (``ai.speech``) and, by its own issue, translation."""

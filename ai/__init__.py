"""The AI Enhancement service: machine translation (``ai.translation``) and narration (``ai.speech``).

Sits above ``content`` and ``marketplace``: it reads chapters and their versions, never the reverse.
"""

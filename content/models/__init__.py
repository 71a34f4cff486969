"""The storytelling tables: stories and chapters with their versions, community, and reading state."""

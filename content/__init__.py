"""The storytelling domain: stories, chapters, publishing through the registry, readers, community."""

"""Machine translation that writers control: drafts, quality checks, review, sync with the original."""

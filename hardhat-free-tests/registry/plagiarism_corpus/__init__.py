"""Plagiarism test set: generated fantasy chapters, hand-written passages and the edits copiers make."""

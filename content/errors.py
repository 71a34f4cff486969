"""Content errors that are not plain permission or lookup failures, each with its own stable code."""

from __future__ import annotations

from api.http.errors import ApiError


class InvalidStateTransition(ApiError):
    """A status change the story or chapter cannot make from where it is."""

    status, code = 409, "INVALID_STATE_TRANSITION"


class CommentDepthExceeded(ApiError):
    status, code = 422, "COMMENT_DEPTH_EXCEEDED"


class ChapterLocked(ApiError):
    """The reader has to unlock the chapter (``POST /chapters/{id}/unlock``) before this action."""

    status, code = 403, "CHAPTER_LOCKED"


class Blocked(ApiError):
    status, code = 403, "BLOCKED"


class InvalidManuscript(ApiError):
    status, code = 400, "INVALID_MANUSCRIPT"


class UnsupportedManuscript(ApiError):
    status, code = 400, "UNSUPPORTED_MANUSCRIPT_FORMAT"


class InvalidCursor(ApiError):
    status, code = 400, "INVALID_CURSOR"


class InvalidPublishTime(ApiError):
    status, code = 422, "INVALID_PUBLISH_TIME"


class ManuscriptAlreadyImported(ApiError):
    """Every chapter of an uploaded manuscript is already in the story (same canonical text)."""

    status, code = 409, "MANUSCRIPT_ALREADY_IMPORTED"

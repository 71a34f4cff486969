"""One error root for content.

Every failure content reports is a :class:`ContentError` with a stable ``code`` (the string the HTTP
envelope carries) and JSON-safe ``details``; no HTTP status is named here. ``api/http/errors.py`` maps
each code to a status once. The generic codes (``NOT_FOUND``, ``FORBIDDEN``, ``BAD_REQUEST``,
``PAYLOAD_TOO_LARGE``) are the ones clients have always seen for these refusals.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ContentError(Exception):
    code: ClassVar[str] = "CONTENT_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class NotFound(ContentError):
    """No such story, chapter, comment, user, report or version, or one the caller may not see: an
    unpublished draft does not exist for anyone but its editors."""

    code = "NOT_FOUND"


class Forbidden(ContentError):
    """The caller sees the thing but may not do this to it (edit another author's story, pin a comment
    on someone else's story, rate their own story)."""

    code = "FORBIDDEN"


class InvalidRequest(ContentError):
    """A request that makes no sense for its target: following or blocking yourself, following a
    reader, resolving a report with an open status."""

    code = "BAD_REQUEST"


class InvalidStateTransition(ContentError):
    """A status change the story, chapter, comment or report cannot make from where it is."""

    code = "INVALID_STATE_TRANSITION"


class CommentDepthExceeded(ContentError):
    code = "COMMENT_DEPTH_EXCEEDED"


class ChapterLocked(ContentError):
    """The reader has to unlock the chapter (``POST /chapters/{id}/unlock``) before this action."""

    code = "CHAPTER_LOCKED"


class Blocked(ContentError):
    code = "BLOCKED"


class InvalidManuscript(ContentError):
    code = "INVALID_MANUSCRIPT"


class UnsupportedManuscript(ContentError):
    code = "UNSUPPORTED_MANUSCRIPT_FORMAT"


class ManuscriptTooLarge(ContentError):
    """The upload, or what its archive expands to, is beyond the import limit."""

    code = "PAYLOAD_TOO_LARGE"


class ManuscriptAlreadyImported(ContentError):
    """Every chapter of an uploaded manuscript is already in the story (same canonical text)."""

    code = "MANUSCRIPT_ALREADY_IMPORTED"


class InvalidCursor(ContentError):
    code = "INVALID_CURSOR"


class InvalidPublishTime(ContentError):
    code = "INVALID_PUBLISH_TIME"

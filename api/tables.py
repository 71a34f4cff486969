"""Importing this module registers every table of every package on the one metadata."""

from accounts.models import *  # noqa: F403
from content.models.community import *  # noqa: F403
from content.models.reading import *  # noqa: F403
from content.models.stories import *  # noqa: F403
from marketplace.licensing.models import *  # noqa: F403
from marketplace.money.models import *  # noqa: F403
from registry.models import *  # noqa: F403

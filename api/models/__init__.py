"""Importing this module registers every table of every package on the one metadata."""

from api.models.accounts import *  # noqa: F403
from api.models.community import *  # noqa: F403
from api.models.content import *  # noqa: F403
from api.models.reading import *  # noqa: F403
from marketplace.licensing_models import *  # noqa: F403
from marketplace.models import *  # noqa: F403
from registry.models import *  # noqa: F403

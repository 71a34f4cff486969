"""Print the README's configuration table from ``api.settings.Settings``."""

from api.settings import settings_table

print(settings_table())

"""README's configuration table is the one ``Settings`` generates: every variable, current defaults."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_matches_settings():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = text.index("<!-- settings-table:end -->")
    assert text[start:end].strip() == settings_table(), "run: python scripts/settings_table.py"


def test_every_setting_is_documented():
    assert all(field.description for field in Settings.model_fields.values())

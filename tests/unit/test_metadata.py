"""``core/metadata.py``: metadata.txt complete for the plugin repository, the version read from it."""
from __future__ import annotations

from pathlib import Path

from offload.core.metadata import metadata, user_agent, version

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("name", "qgisminimumversion", "description", "about", "version", "author", "email",
            "repository", "tracker", "homepage", "tags", "category", "icon", "experimental", "changelog",
            "hasprocessingprovider")


def test_metadata_has_every_field_the_plugin_repository_needs():
    fields = metadata()
    assert [key for key in REQUIRED if not fields.get(key, "").strip()] == []
    assert fields["qgisminimumversion"] == "3.22"
    assert (ROOT / fields["icon"]).is_file()
    assert fields["hasprocessingprovider"] in ("yes", "no")


def test_the_user_agent_names_offload_and_its_version():
    assert user_agent().startswith(f"Offload/{version()} (+http")

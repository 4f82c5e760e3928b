"""Secrets in URLs hidden in every message: ``net_tasks/redact.py``."""
from __future__ import annotations

import pytest

from offload.net_tasks.redact import redact_text, redact_url


@pytest.mark.parametrize("url, shown", [
    ("https://h.org/t/{z}/{x}/{y}.png?token=abc123&style=dark", "https://h.org/t/{z}/{x}/{y}.png?token=***&style=***"),
    ("https://user:pa55word@h.org/f.zip", "https://user:***@h.org/f.zip"),
    ("https://h.org/f.zip#frag", "https://h.org/f.zip"),
    ("https://h.org/f.zip?flag", "https://h.org/f.zip?flag"),
    ("https://h.org/t/{z}/{x}/{y}.png?a1b2c3d4e5f6SECRET", "https://h.org/t/{z}/{x}/{y}.png?***"),
    ("https://sk.TOKEN123@h.org/t/{z}/{x}/{y}.png", "https://***@h.org/t/{z}/{x}/{y}.png"),
    ("http://[::1", "***"),
    ("https://wxs.ign.fr/an7nvfzojv5wa96dsga5nk8w/geoportail/wmts?layer=ortho",
     "https://wxs.ign.fr/***/geoportail/wmts?layer=***"),
    ("https://h.org/3f2504e0-4f89-11d3-9a0c-0305e82c3301/{z}/{x}/{y}.png", "https://h.org/***/{z}/{x}/{y}.png"),
    ("https://h.org/styles/openstreetmap-carto-standard/v2/{z}/{x}/{y}@2x.png",  # names stay
     "https://h.org/styles/openstreetmap-carto-standard/v2/{z}/{x}/{y}@2x.png"),
    ("https://h.org/tiles/world_imagery_2023_release12.jpeg", "https://h.org/tiles/world_imagery_2023_release12.jpeg"),
])
def test_redact_url_hides_query_values_passwords_and_tokens(url, shown):
    assert redact_url(url) == shown


def test_redact_text_hides_a_bare_token_and_a_user_name_token_too():
    assert "a1b2c3d4e5f6SECRET" not in redact_text("404 for /t/1/2/3.png?a1b2c3d4e5f6SECRET",
                                                  "https://h.org/t/{z}/{x}/{y}.png?a1b2c3d4e5f6SECRET")
    assert "TOKEN123" not in redact_text("auth failed for sk.TOKEN123", "https://sk.TOKEN123@h.org/t.png")
    assert redact_text("anonymous login failed", "ftp://anonymous@h.org/f.zip") == "anonymous login failed"


def test_redact_text_hides_a_key_in_the_path_wherever_the_message_has_it():
    url = "https://tiles.example.org/k/a1b2c3d4e5f6a7b8c9d0/7/64/42.png"
    message = "HTTP 403 for /k/a1b2c3d4e5f6a7b8c9d0/7/64/42.png (key a1b2c3d4e5f6a7b8c9d0 revoked)"
    shown = redact_text(message, url)
    assert "a1b2c3d4e5f6a7b8c9d0" not in shown and shown.startswith("HTTP 403 for /k/***/7/64/42.png")


def test_redact_text_hides_a_url_s_secrets_in_any_message():
    url = "https://h.org/f.zip?key=SECRETKEY&v=1"
    message = "HTTPSConnectionPool(host='h.org', port=443): Max retries exceeded with url: /f.zip?key=SECRETKEY&v=1"
    assert "SECRETKEY" not in redact_text(message, url)
    assert redact_text(f"got {url} and SECRETKEY", url) == "got https://h.org/f.zip?key=***&v=*** and ***"

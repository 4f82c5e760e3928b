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
])
def test_redact_url_hides_query_values_passwords_and_tokens(url, shown):
    assert redact_url(url) == shown


def test_redact_text_hides_a_bare_token_and_a_user_name_token_too():
    assert "a1b2c3d4e5f6SECRET" not in redact_text("404 for /t/1/2/3.png?a1b2c3d4e5f6SECRET",
                                                  "https://h.org/t/{z}/{x}/{y}.png?a1b2c3d4e5f6SECRET")
    assert "TOKEN123" not in redact_text("auth failed for sk.TOKEN123", "https://sk.TOKEN123@h.org/t.png")
    assert redact_text("anonymous login failed", "ftp://anonymous@h.org/f.zip") == "anonymous login failed"


def test_redact_text_hides_a_url_s_secrets_in_any_message():
    url = "https://h.org/f.zip?key=SECRETKEY&v=1"
    message = "HTTPSConnectionPool(host='h.org', port=443): Max retries exceeded with url: /f.zip?key=SECRETKEY&v=1"
    assert "SECRETKEY" not in redact_text(message, url)
    assert redact_text(f"got {url} and SECRETKEY", url) == "got https://h.org/f.zip?key=***&v=*** and ***"

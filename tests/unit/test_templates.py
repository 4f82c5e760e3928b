"""URL templates (``net_tasks/templates.py``, pure): placeholders filled, refusals that name the
bad part and never show a secret, the hosts whose policy forbids bulk downloads."""
from __future__ import annotations

import pytest

from offload.core.errors import InputError
from offload.net_tasks.templates import parse_template
from offload.net_tasks.tiles import Tile


def test_templates_fill_every_placeholder():
    tile = Tile(3, 5, 3)
    assert parse_template("https://t.example/{z}/{x}/{y}.png").url(tile) == "https://t.example/3/3/5.png"
    assert parse_template("https://t.example/{z}/{x}/{-y}.png").url(tile) == "https://t.example/3/3/2.png"
    assert parse_template("https://t.example/q/{q}.jpeg").url(tile) == "https://t.example/q/213.jpeg"
    template = parse_template("https://{s}.t.example/{z}/{x}/{y}.png", "abc")
    assert {template.url(Tile(x, 0, 3)) for x in range(3)} == {
        "https://a.t.example/3/0/0.png", "https://b.t.example/3/1/0.png", "https://c.t.example/3/2/0.png"}


@pytest.mark.parametrize("text, subdomains, message", [
    ("ftp://t.example/{z}/{x}/{y}", "", "URL scheme 'ftp'"),
    ("file:///tiles/{z}/{x}/{y}.png", "", "--allow-file-urls"),
    ("https://t.example/{z}/{x}.png", "", "neither"),
    ("https://t.example/{z}/{x}/{y}/{w}.png", "", "placeholder {w}"),
    ("https://{s}.t.example/{z}/{x}/{y}.png", "", "uses {s}"),
    ("https://{s}.t.example/{z}/{x}/{y}.png", "a.b", "subdomains 'a.b'"),
    ("https:///{z}/{x}/{y}.png", "", "has no host"),
])
def test_template_refusals(text, subdomains, message):
    with pytest.raises(InputError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")):
        parse_template(text, subdomains)


def test_bulk_download_policy_hosts():
    assert parse_template("https://tile.openstreetmap.org/{z}/{x}/{y}.png").bulk_forbidden
    assert parse_template("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "abc").bulk_forbidden
    assert not parse_template("https://tiles.example.org/{z}/{x}/{y}.png").bulk_forbidden
    assert not parse_template("https://tile.openstreetmap.org.evil.example/{z}/{x}/{y}.png").bulk_forbidden


def test_a_template_s_key_never_reaches_a_refusal():
    with pytest.raises(InputError) as refused:
        parse_template("https://h.org/{z}/{x}.png?key=SECRETKEY")
    assert "SECRETKEY" not in str(refused.value) and "key=***" in str(refused.value)

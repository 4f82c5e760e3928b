"""A template's host and port are checked when it is parsed: a port that is not one, or an
IPv6 address left unbracketed, is refused in one line naming that part, before any tile
(it was accepted, then every tile failed, or a raw ValueError escaped)."""
from __future__ import annotations

import pytest

from offload.core.errors import InputError
from offload.net_tasks.templates import parse_template


@pytest.mark.parametrize("text,named", [
    ("http://127.0.0.1:99999/{z}/{x}/{y}.png", "port '99999'"),
    ("http://tiles.example.org:abc/{z}/{x}/{y}.png", "port 'abc'"),
    ("http://tiles.example.org:0/{z}/{x}/{y}.png", "port '0'"),
    ("https://{s}.tiles.example.org:70000/{z}/{x}/{y}.png?key=s3cr3t-key", "port '70000'"),
    ("http://[::1/{z}/{x}/{y}.png", "host '[::1'"),
    ("http://user:s3cr3t-key@[::1:8080/{z}/{x}/{y}.png", "host '[::1:8080'"),
])
def test_a_bad_port_or_host_is_refused_naming_it(text, named):
    with pytest.raises(InputError) as refused:
        parse_template(text, "abc")
    message = str(refused.value)
    assert named in message and "\n" not in message
    assert "s3cr3t" not in message


@pytest.mark.parametrize("text", [
    "http://127.0.0.1:8080/{z}/{x}/{y}.png",
    "http://[::1]:65535/{z}/{x}/{y}.png",
    "http://[2001:db8::1]/{z}/{x}/{y}.png",
    "https://tiles.example.org/{z}/{x}/{y}.png",
])
def test_good_hosts_and_ports_pass(text):
    assert parse_template(text).text == text

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


@pytest.mark.parametrize("segment", [
    "s2cloudless-2019_3857", "satellite-streets-v12", "GoogleMapsCompatible_Level12", "2023-01-01T00-00-00-000Z",
    "global_monthly_2023_01_mosaic", "HLS_S30_Nadir_BRDF_Adjusted_Reflectance", "Sentinel2L2A_2023_Q1_mosaic",
    "VIIRS_SNPP_CorrectedReflectance_TrueColor", "MODIS_Terra_CorrectedReflectance_TrueColor",
    "a1b2c3d4e5f6a7b8c9d",  # 19 letters and digits: too short for a key
    "abcdefghijklmnopqrs1",  # 20, with one digit: a name
])
def test_layer_names_and_dates_in_the_path_stay_readable(segment):
    url = f"https://h.org/wmts/{segment}/default/{{z}}/{{y}}/{{x}}.jpg"
    assert redact_url(url) == url


@pytest.mark.parametrize("segment", [
    "abcdefghijklmnopqr12",  # 20, two digits: the shortest key hidden
    "dGhpc2lzYXNlY3JldGtleTEyMw==",  # base64, padded
    "a1b2c3d4e5f6%2Da7b8c9d0e1f2a3",  # percent-encoded
    "a1b2c3d4e5f6a7b8c9d0_{z}",  # beside a placeholder
    "tiles;jsessionid=A1B2C3D4E5F6G7H8I9J0K1",  # a path parameter
    "a1b2c3d4e5f6a7b8c9d0e1.png",  # with an extension
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln",  # a JWT
    "5a9f90c42553e6000ce5ad6c",  # an id of 24 hex digits
    "ryqglbCHLqzRxOocBy_Rmon2Fp-h939D", "fVWRwc-j_-BRmc-8_DQUb5xrtHSyT-7d",  # base64url, cut by its - and _
    "abcdefab-cdef-abcd-efab-cdefabcdefab",  # a UUID of letters only
])
def test_keys_in_the_path_are_hidden_however_they_are_written(segment):
    url = f"https://h.org/k/{segment}/{{z}}/{{x}}/{{y}}.png"
    assert redact_url(url) == "https://h.org/k/***/{z}/{x}/{y}.png"


@pytest.mark.parametrize("url", [
    "https://h.org/t.png?x%3Dy", "https://h.org/t.png?a%2Bb", "https://h.org/t.png?q=a b&r=1",
    "https://h.org/t.png?layer%20name=roads&flag", "https://u:p@h.org/wmts/a1b2c3d4e5f6a7b8c9d0/{z}.png?k=v",
    "https://h.org/{z}/{x}/{y}.png?a1b2c3d4", "https://h.org/t.png?Signature123456789",
])
def test_what_is_shown_reads_back_the_same(url):
    """A package stores its source redacted; a resume redacts it again to compare with this run's."""
    assert redact_url(redact_url(url)) == redact_url(url)

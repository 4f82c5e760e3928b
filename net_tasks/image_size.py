"""The pixel size an image declares, read from its header before anything decodes it.

A 100 KB PNG may declare 30000×30000 pixels (3.6 GB decoded); reading the header first
lets a tile be refused for the price of a few bytes. Pure: stdlib only. Formats: PNG (IHDR),
JPEG (the SOF segment), WebP (VP8, VP8L, VP8X) and GIF.
"""
from __future__ import annotations

import struct
from typing import Optional, Tuple

Size = Tuple[int, int]  # width, height
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_NO_LENGTH = {0x01, *range(0xD0, 0xDA)}  # markers without a length field (RSTn, SOI, EOI)


def image_size(body: bytes) -> Optional[Size]:
    """``(width, height)`` from the header of a PNG, JPEG, WebP or GIF; None if it is none of them."""
    try:
        if body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR":
            return struct.unpack(">II", body[16:24])
        if body[:2] == b"\xff\xd8":
            return _jpeg_size(body)
        if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
            return _webp_size(body)
        if body[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", body[6:10])
    except struct.error:  # cut short
        return None
    return None


def _jpeg_size(body: bytes) -> Optional[Size]:
    at = 2
    while at + 4 <= len(body):
        if body[at] != 0xFF:
            return None
        marker = body[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            at += 2
            continue
        (length,) = struct.unpack(">H", body[at + 2:at + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", body[at + 5:at + 9])
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            return None
        at += 2 + length
    return None


def _webp_size(body: bytes) -> Optional[Size]:
    if len(body) < 30:  # every WebP header below reads up to byte 30: cut short, the size is unknown
        return None
    chunk = body[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(body[24:27], "little") + 1
        height = int.from_bytes(body[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and body[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and body[20:21] == b"\x2f":
        (bits,) = struct.unpack("<I", body[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None

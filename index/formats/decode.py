"""Bytes to text: UTF-8 (BOM or not), UTF-16 with a BOM, and Windows-1252 for the bytes that are not UTF-8."""

from __future__ import annotations

import codecs
import threading

from index.fields import CONTROL
from index.formats.base import LoadError


class _Bad(threading.local):
    """What the decode error handler saw, per thread: how many bytes were not UTF-8, and the first one."""
    count = 0
    first: tuple[int, int] | None = None


_bad = _Bad()


def _as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: the bytes that are not UTF-8 are read as Windows-1252, the valid runs stay UTF-8
    (a UTF-8 file with a few Latin-1 bytes pasted in keeps its UTF-8 text intact)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    if _bad.first is None:
        _bad.first = (exc.start, bad[0])
    _bad.count += len(bad)
    return bytes(bad).decode("cp1252", errors="replace"), exc.end


codecs.register_error("newsrag-cp1252", _as_cp1252)


def decode(raw: bytes) -> tuple[str, str | None]:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with a BOM; bytes that are not UTF-8 are read as
    Windows-1252 when the result reads as text. Returns (text, note); control characters are removed and newlines
    normalised."""
    note = None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError("starts with a UTF-16 mark but is not valid UTF-16") from None
        note = "decoded as UTF-16"
    elif b"\x00" in raw[:8192]:
        raise LoadError("looks like a binary file (NUL bytes), not text")
    else:
        _bad.count, _bad.first = 0, None
        text = raw.decode("utf-8-sig", errors="newsrag-cp1252")
        if _bad.first is not None:
            at, byte = _bad.first
            odd = sum(1 for c in text if c == "\ufffd" or (ord(c) < 32 and c not in "\n\r\t"))
            if odd > len(text) * 0.01:
                raise LoadError(f"not valid UTF-8 (bad byte 0x{byte:02x} at offset {at}) and not "
                                "Windows-1252 text either; re-save the file as UTF-8")
            note = (f"not valid UTF-8: {_bad.count} byte{'s' * (_bad.count != 1)} (the first 0x{byte:02x} at offset "
                    f"{at}) decoded as Windows-1252, the rest as UTF-8")
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, note



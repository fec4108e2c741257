"""The plate reader of this worker process, built once after the prefork fork."""

from __future__ import annotations

from backend.ocr.readers import PlateReader, build_plate_reader

_reader: PlateReader | None = None


def load() -> PlateReader:
    global _reader
    _reader = build_plate_reader()
    return _reader


def plate_reader() -> PlateReader:
    return _reader if _reader is not None else load()

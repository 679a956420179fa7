"""Reading an uploaded file within the size limit, for the bulk import endpoints."""

from __future__ import annotations

from fastapi import UploadFile

from fangkong.core.errors import TooLarge
from fangkong.core.messages import CORE


def read_upload(file: UploadFile, max_bytes: int) -> tuple[bytes, str]:
    name = file.filename or "upload"
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(CORE("upload_over", file=name, limit=f"{max_bytes:,}"))
    return data, name

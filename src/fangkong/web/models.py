from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime


class WebPreference(Base):
    """A user's display choices on the web pages: language and large-text (适老化) mode."""

    __tablename__ = "web_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(10))
    large_text: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncEntry(Base):
    """An entry made on a device without a network and applied when it was sent
    (:mod:`fangkong.web.workspace.sync`): its id, made by the device, makes a resend answer
    "already applied" instead of applying it twice. Only applied entries are kept (a
    conflict or a refusal leaves nothing: the entry is sent again once resolved)."""

    __tablename__ = "web_sync_entry"

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(BigId)
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)

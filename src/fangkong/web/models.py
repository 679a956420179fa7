from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, UTCDateTime


class WebPreference(Base):
    """A user's display choices on the web pages: language and large-text (适老化) mode."""

    __tablename__ = "web_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(10))
    large_text: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

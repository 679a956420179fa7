from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fangkong.core.auth import Role
from fangkong.core.db import Base, BigId, UTCDateTime


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grants: Mapped[list[UserGrant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserGrant.division_code"
    )

    @property
    def jurisdictions(self) -> list[str]:
        return [g.division_code for g in self.grants]


class UserGrant(Base):
    """A jurisdiction a user acts in: a division code, or ``CN`` for the whole country."""

    __tablename__ = "user_grant"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)


class UserSession(Base):
    """One signed-in session: every token issued (API bearer or page cookie) names one by its
    ``jti``, and is honoured only while the session is neither revoked nor expired."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``api`` (a bearer token) or ``web`` (the pages' cookie): each is refused as the other."""
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_why: Mapped[str | None] = mapped_column(String(20))


class LoginThrottle(Base):
    """Failed sign-ins counted per username and per client address, and the lockout they
    earned (kept in the database: it holds across processes and restarts)."""

    __tablename__ = "login_throttle"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    """``user`` or ``address``."""
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

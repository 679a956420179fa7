from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Enum, Index, LargeBinary, String, Text, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId, UTCDateTime
from fangkong.person.enums import IdType, Sex


class Person(Base):
    """The person master record, separate from every episode (case, contact, stay) about them.

    Identity numbers and phones are stored AES-GCM encrypted (``*_enc``), with a keyed hash for
    exact lookup (``*_hash``, the 32 bytes of an HMAC-SHA256) and a masked form for lists
    (``*_masked``).
    """

    __tablename__ = "person"
    __table_args__ = (
        # Keyset pages of one jurisdiction: WHERE code range AND (code, id) > cursor. Its
        # keys are unique, so B-tree deduplication would only try in vain (migration 0016).
        Index("ix_person_division_code_id", "division_code", "id",
              postgresql_with={"deduplicate_items": "off"}),
        # Phone lookups are by equality only: a hash index on PostgreSQL (migration 0014).
        Index("ix_person_phone_hash", "phone_hash", postgresql_using="hash"),
        # The search box: a name by its beginning ("张" finds 张三), a LIKE 'prefix%' that
        # PostgreSQL answers from the index whatever the database's collation (pattern
        # ops), SQLite as a range; a phone by its last four digits, the masked phone's end
        # (migration 0039).
        Index("ix_person_name_prefix", "name",
              postgresql_ops={"name": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[Sex] = mapped_column(Enum(Sex, native_enum=False, length=10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_type: Mapped[IdType | None] = mapped_column(Enum(IdType, native_enum=False, length=30))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    # A division's code; triggers (migration 0009), not a foreign key, refuse any other: a
    # foreign key checks and locks the division row once per person, a third of a bulk
    # import's time on PostgreSQL, where the triggers check a whole statement's rows at once.
    division_code: Mapped[str] = mapped_column(String(12))
    household_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def phone_tail(column: Any) -> Any:
    """The last four characters of a masked phone (its last four digits): the search box's
    phone-by-its-end, answered from :data:`ix_person_phone_tail`."""
    return func.substr(column, func.length(column) - literal_column("3"))


ix_person_phone_tail = Index("ix_person_phone_tail", phone_tail(Person.phone_masked))

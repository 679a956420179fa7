from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    male = "male"
    female = "female"
    unknown = "unknown"


class IdType(StrEnum):
    resident_id = "resident_id"  # 居民身份证 (GB 11643)
    passport = "passport"  # 护照
    hk_macao_permit = "hk_macao_permit"  # 港澳居民来往内地通行证
    taiwan_permit = "taiwan_permit"  # 台湾居民来往大陆通行证
    foreign_permanent_resident = "foreign_permanent_resident"  # 外国人永久居留身份证
    other = "other"


SEX_ALIASES = {
    "male": Sex.male, "m": Sex.male, "男": Sex.male, "1": Sex.male,
    "female": Sex.female, "f": Sex.female, "女": Sex.female, "2": Sex.female,
    "unknown": Sex.unknown, "u": Sex.unknown, "未知": Sex.unknown, "0": Sex.unknown,
    "9": Sex.unknown,
}
ID_TYPE_ALIASES = {
    **{t.value: t for t in IdType},
    "居民身份证": IdType.resident_id, "身份证": IdType.resident_id,
    "护照": IdType.passport, "護照": IdType.passport,
}

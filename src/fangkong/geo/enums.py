"""Vocabularies of the geo domain, with their zh/en labels in one place."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    town = "town"
    village = "village"

    @property
    def label(self) -> dict[str, str]:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.province: {"zh-Hans": "省", "zh-Hant": "省", "en": "province"},
    Level.city: {"zh-Hans": "市", "zh-Hant": "市", "en": "city"},
    Level.county: {"zh-Hans": "区县", "zh-Hant": "區縣", "en": "county / district"},
    Level.town: {"zh-Hans": "乡镇街道", "zh-Hant": "鄉鎮街道", "en": "town / subdistrict"},
    Level.village: {"zh-Hans": "村社区", "zh-Hant": "村社區", "en": "village / community"},
}

CODE_LENGTHS = {2: Level.province, 4: Level.city, 6: Level.county, 9: Level.town, 12: Level.village}
PREFIX_LENGTHS = (2, 4, 6, 9)


class UnitKind(StrEnum):
    """Field units that are not divisions but hang off one."""

    command_post = "command_post"  # 指挥部
    working_group = "working_group"  # 工作专班 / 工作组
    lab = "lab"  # 检测实验室
    quarantine_site = "quarantine_site"  # 隔离点
    hospital = "hospital"  # 医院
    community = "community"  # 社区工作站
    other = "other"

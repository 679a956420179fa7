"""Isolation vocabularies, with zh-Hans / zh-Hant / en labels in one place."""

from __future__ import annotations

from enum import StrEnum


class SiteType(StrEnum):
    quarantine_hotel = "quarantine_hotel"  # 集中隔离酒店
    health_station = "health_station"  # 健康驿站
    shelter_hospital = "shelter_hospital"  # 方舱医院
    designated_hospital = "designated_hospital"  # 定点医院
    sub_designated_hospital = "sub_designated_hospital"  # 亚定点医院
    home = "home"  # 居家 (a virtual site)


class MedicalLevel(StrEnum):
    """Lowest first; a site meets a requirement when its level is at least the one required."""

    none = "none"
    basic = "basic"  # a clinician on site
    general = "general"  # hospital ward
    icu = "icu"  # intensive care

    @property
    def rank(self) -> int:
        return list(MedicalLevel).index(self)


class AssignRole(StrEnum):
    close_contact = "close_contact"
    secondary_contact = "secondary_contact"
    inbound_traveller = "inbound_traveller"
    case_asymptomatic = "case_asymptomatic"
    case_mild = "case_mild"
    case_moderate = "case_moderate"
    case_severe = "case_severe"
    case_critical = "case_critical"


class Need(StrEnum):
    elderly_alone = "elderly_alone"
    child_with_guardian = "child_with_guardian"
    pregnant = "pregnant"
    dialysis = "dialysis"
    wheelchair = "wheelchair"


LABELS: dict[str, dict[str, str]] = {
    "quarantine_hotel": {"zh-Hans": "集中隔离酒店", "zh-Hant": "集中隔離酒店",
                         "en": "quarantine hotel"},
    "health_station": {"zh-Hans": "健康驿站", "zh-Hant": "健康驛站", "en": "health station"},
    "shelter_hospital": {"zh-Hans": "方舱医院", "zh-Hant": "方艙醫院", "en": "shelter hospital"},
    "designated_hospital": {"zh-Hans": "定点医院", "zh-Hant": "定點醫院",
                            "en": "designated hospital"},
    "sub_designated_hospital": {"zh-Hans": "亚定点医院", "zh-Hant": "亞定點醫院",
                                "en": "sub-designated hospital"},
    "home": {"zh-Hans": "居家", "zh-Hant": "居家", "en": "home"},
    "none": {"zh-Hans": "无医疗", "zh-Hant": "無醫療", "en": "no medical care"},
    "basic": {"zh-Hans": "驻点医护", "zh-Hant": "駐點醫護", "en": "clinician on site"},
    "general": {"zh-Hans": "普通病房", "zh-Hant": "普通病房", "en": "general ward"},
    "icu": {"zh-Hans": "重症监护", "zh-Hant": "重症監護", "en": "intensive care"},
    "close_contact": {"zh-Hans": "密切接触者", "zh-Hant": "密切接觸者", "en": "close contact"},
    "secondary_contact": {"zh-Hans": "密接的密接", "zh-Hant": "密接的密接",
                          "en": "secondary contact"},
    "inbound_traveller": {"zh-Hans": "入境人员", "zh-Hant": "入境人員", "en": "inbound traveller"},
    "case_asymptomatic": {"zh-Hans": "无症状感染者", "zh-Hant": "無症狀感染者",
                          "en": "asymptomatic infection"},
    "case_mild": {"zh-Hans": "轻型病例", "zh-Hant": "輕型病例", "en": "mild case"},
    "case_moderate": {"zh-Hans": "普通型病例", "zh-Hant": "普通型病例", "en": "moderate case"},
    "case_severe": {"zh-Hans": "重型病例", "zh-Hant": "重型病例", "en": "severe case"},
    "case_critical": {"zh-Hans": "危重型病例", "zh-Hant": "危重型病例", "en": "critical case"},
    "elderly_alone": {"zh-Hans": "独居老人", "zh-Hant": "獨居老人", "en": "elderly living alone"},
    "child_with_guardian": {"zh-Hans": "儿童(需监护人陪同)", "zh-Hant": "兒童(需監護人陪同)",
                            "en": "child with a guardian"},
    "pregnant": {"zh-Hans": "孕产妇", "zh-Hant": "孕產婦", "en": "pregnant"},
    "dialysis": {"zh-Hans": "血液透析", "zh-Hant": "血液透析", "en": "dialysis"},
    "wheelchair": {"zh-Hans": "轮椅使用者", "zh-Hant": "輪椅使用者", "en": "wheelchair user"},
}


class SiteStatus(StrEnum):
    active = "active"
    standby = "standby"  # 备用 (reserve)
    closed = "closed"


class StayKind(StrEnum):
    quarantine = "quarantine"  # 隔离医学观察
    isolation = "isolation"  # 隔离 (an infected person)
    treatment = "treatment"  # 住院治疗
    home_health_monitoring = "home_health_monitoring"  # 居家健康监测


class StayStatus(StrEnum):
    active = "active"
    released = "released"
    moved = "moved"  # ended by a transfer to another facility


class VehicleKind(StrEnum):
    bus = "bus"  # contacts
    ambulance = "ambulance"  # cases
    negative_pressure_ambulance = "negative_pressure_ambulance"  # cases, severe and critical


class PassengerClass(StrEnum):
    case = "case"
    contact = "contact"


class SampleResult(StrEnum):
    pending = "pending"
    negative = "negative"
    positive = "positive"


class TransferKind(StrEnum):
    admission = "admission"  # 转运入住
    return_home = "return_home"  # 点对点返家
    inter_facility = "inter_facility"  # 转院


class TransferStatus(StrEnum):
    planned = "planned"
    dispatched = "dispatched"
    arrived = "arrived"
    cancelled = "cancelled"


LABELS.update({
    "active": {"zh-Hans": "启用", "zh-Hant": "啟用", "en": "active"},
    "standby": {"zh-Hans": "备用", "zh-Hant": "備用", "en": "standby reserve"},
    "closed": {"zh-Hans": "关闭", "zh-Hant": "關閉", "en": "closed"},
    "quarantine": {"zh-Hans": "隔离医学观察", "zh-Hant": "隔離醫學觀察", "en": "quarantine"},
    "isolation": {"zh-Hans": "隔离", "zh-Hant": "隔離", "en": "isolation"},
    "treatment": {"zh-Hans": "住院治疗", "zh-Hant": "住院治療", "en": "treatment"},
    "home_health_monitoring": {"zh-Hans": "居家健康监测", "zh-Hant": "居家健康監測",
                               "en": "home health monitoring"},
    "released": {"zh-Hans": "已解除", "zh-Hant": "已解除", "en": "released"},
    "moved": {"zh-Hans": "已转院", "zh-Hant": "已轉院", "en": "moved"},
    "bus": {"zh-Hans": "转运大巴", "zh-Hant": "轉運大巴", "en": "bus"},
    "ambulance": {"zh-Hans": "救护车", "zh-Hant": "救護車", "en": "ambulance"},
    "negative_pressure_ambulance": {"zh-Hans": "负压救护车", "zh-Hant": "負壓救護車",
                                    "en": "negative-pressure ambulance"},
    "case": {"zh-Hans": "感染者", "zh-Hant": "感染者", "en": "case"},
    "contact": {"zh-Hans": "风险人员", "zh-Hant": "風險人員", "en": "contact"},
    "pending": {"zh-Hans": "待检测", "zh-Hant": "待檢測", "en": "pending"},
    "negative": {"zh-Hans": "阴性", "zh-Hant": "陰性", "en": "negative"},
    "positive": {"zh-Hans": "阳性", "zh-Hant": "陽性", "en": "positive"},
    "admission": {"zh-Hans": "转运入住", "zh-Hant": "轉運入住", "en": "admission transfer"},
    "return_home": {"zh-Hans": "点对点返家", "zh-Hant": "點對點返家", "en": "return home"},
    "inter_facility": {"zh-Hans": "转院", "zh-Hant": "轉院", "en": "inter-facility transfer"},
    "planned": {"zh-Hans": "待派车", "zh-Hant": "待派車", "en": "planned"},
    "dispatched": {"zh-Hans": "已派车", "zh-Hant": "已派車", "en": "dispatched"},
    "arrived": {"zh-Hans": "已到达", "zh-Hant": "已到達", "en": "arrived"},
    "cancelled": {"zh-Hans": "已取消", "zh-Hant": "已取消", "en": "cancelled"},
})

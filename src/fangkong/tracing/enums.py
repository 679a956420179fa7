"""Tracing vocabularies, with zh-Hans / zh-Hant / en labels, in one place."""

from __future__ import annotations

from enum import StrEnum


class VenueType(StrEnum):
    restaurant = "restaurant"  # 餐饮
    market = "market"  # 农贸市场
    supermarket = "supermarket"  # 商超
    mall = "mall"  # 商场
    office = "office"  # 办公场所
    factory = "factory"  # 工厂
    school = "school"  # 学校
    hospital = "hospital"  # 医疗机构
    transport = "transport"  # 交通场站
    entertainment = "entertainment"  # 娱乐场所
    hotel = "hotel"  # 宾馆酒店
    other = "other"

    @property
    def default_dwell_minutes(self) -> int:
        """The stay given to a check-in without a time out (a platform default, not a rule
        of any protocol: a venue's usual visit)."""
        return DEFAULT_DWELL_MINUTES[self]


DEFAULT_DWELL_MINUTES: dict[VenueType, int] = {
    VenueType.restaurant: 90, VenueType.market: 45, VenueType.supermarket: 40,
    VenueType.mall: 120, VenueType.office: 480, VenueType.factory: 480, VenueType.school: 420,
    VenueType.hospital: 120, VenueType.transport: 30, VenueType.entertainment: 180,
    VenueType.hotel: 720, VenueType.other: 60,
}


class Setting(StrEnum):
    household = "household"
    workplace = "workplace"
    school = "school"
    venue = "venue"
    transport = "transport"
    care = "care"
    other = "other"


class Proximity(StrEnum):
    direct = "direct"  # 直接接触
    within_1m = "within_1m"  # 1米内
    same_room = "same_room"  # 同一空间
    same_venue = "same_venue"  # 同一场所
    unknown = "unknown"


class Certainty(StrEnum):
    confirmed = "confirmed"
    probable = "probable"
    possible = "possible"


class Origin(StrEnum):
    """How an exposure was found."""

    manual = "manual"
    household = "household"
    co_presence = "co_presence"
    secondary = "secondary"
    interview = "interview"  # named by the case in the 流调 interview


class InterviewStatus(StrEnum):
    draft = "draft"  # 草稿
    completed = "completed"  # 已完成


class Symptom(StrEnum):
    """The symptoms the 流调 interview asks about."""

    fever = "fever"  # 发热
    cough = "cough"  # 咳嗽
    sore_throat = "sore_throat"  # 咽痛
    fatigue = "fatigue"  # 乏力
    muscle_ache = "muscle_ache"  # 肌肉酸痛
    headache = "headache"  # 头痛
    runny_nose = "runny_nose"  # 流涕
    smell_taste = "smell_taste"  # 嗅觉味觉减退
    diarrhoea = "diarrhoea"  # 腹泻
    breathless = "breathless"  # 呼吸困难


class TravelMode(StrEnum):
    train = "train"
    flight = "flight"
    bus = "bus"
    car = "car"
    ship = "ship"
    other = "other"


# The setting of a link an epidemiologist decided (who infected whom), not one an exposure gave.
ASSIGNED = "assigned"


class Review(StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


class ContactStatus(StrEnum):
    identified = "identified"  # 已判定
    notified = "notified"  # 已通知
    under_management = "under_management"  # 管控中
    released = "released"  # 已解除
    became_case = "became_case"  # 转为病例
    lost_to_follow_up = "lost_to_follow_up"  # 失访


# Allowed status moves; released, became_case and lost_to_follow_up end an episode (a lost
# contact found again goes back under management).
TRANSITIONS: dict[ContactStatus, set[ContactStatus]] = {
    ContactStatus.identified: {ContactStatus.notified, ContactStatus.under_management,
                               ContactStatus.became_case, ContactStatus.lost_to_follow_up},
    ContactStatus.notified: {ContactStatus.under_management, ContactStatus.became_case,
                             ContactStatus.lost_to_follow_up},
    ContactStatus.under_management: {ContactStatus.released, ContactStatus.became_case,
                                     ContactStatus.lost_to_follow_up},
    ContactStatus.lost_to_follow_up: {ContactStatus.under_management, ContactStatus.became_case},
    ContactStatus.released: {ContactStatus.became_case},
    ContactStatus.became_case: set(),
}


LABELS: dict[str, dict[str, str]] = {
    "restaurant": {"zh-Hans": "餐饮场所", "zh-Hant": "餐飲場所", "en": "restaurant"},
    "market": {"zh-Hans": "农贸市场", "zh-Hant": "農貿市場", "en": "market"},
    "supermarket": {"zh-Hans": "商超", "zh-Hant": "商超", "en": "supermarket"},
    "mall": {"zh-Hans": "商场", "zh-Hant": "商場", "en": "shopping mall"},
    "office": {"zh-Hans": "办公场所", "zh-Hant": "辦公場所", "en": "office"},
    "factory": {"zh-Hans": "工厂", "zh-Hant": "工廠", "en": "factory"},
    "school": {"zh-Hans": "学校", "zh-Hant": "學校", "en": "school"},
    "hospital": {"zh-Hans": "医疗机构", "zh-Hant": "醫療機構", "en": "health facility"},
    "transport": {"zh-Hans": "交通场站", "zh-Hant": "交通場站", "en": "transport hub"},
    "entertainment": {"zh-Hans": "娱乐场所", "zh-Hant": "娛樂場所", "en": "entertainment venue"},
    "hotel": {"zh-Hans": "宾馆酒店", "zh-Hant": "賓館酒店", "en": "hotel"},
    "other": {"zh-Hans": "其他", "zh-Hant": "其他", "en": "other"},
    "household": {"zh-Hans": "共同居住", "zh-Hant": "共同居住", "en": "household"},
    "workplace": {"zh-Hans": "工作场所", "zh-Hant": "工作場所", "en": "workplace"},
    "venue": {"zh-Hans": "公共场所", "zh-Hant": "公共場所", "en": "venue"},
    "care": {"zh-Hans": "诊疗护理", "zh-Hant": "診療護理", "en": "care"},
    "direct": {"zh-Hans": "直接接触", "zh-Hant": "直接接觸", "en": "direct contact"},
    "within_1m": {"zh-Hans": "1米内", "zh-Hant": "1米內", "en": "within 1 m"},
    "same_room": {"zh-Hans": "同一空间", "zh-Hant": "同一空間", "en": "same room"},
    "same_venue": {"zh-Hans": "同一场所", "zh-Hant": "同一場所", "en": "same venue"},
    "unknown": {"zh-Hans": "不详", "zh-Hant": "不詳", "en": "unknown"},
    "confirmed": {"zh-Hans": "已确认", "zh-Hant": "已確認", "en": "confirmed"},
    "probable": {"zh-Hans": "很可能", "zh-Hant": "很可能", "en": "probable"},
    "possible": {"zh-Hans": "可能", "zh-Hant": "可能", "en": "possible"},
    "manual": {"zh-Hans": "人工录入", "zh-Hant": "人工錄入", "en": "entered by hand"},
    "co_presence": {"zh-Hans": "时空伴随", "zh-Hant": "時空伴隨", "en": "venue co-presence"},
    "secondary": {"zh-Hans": "密接的密接", "zh-Hant": "密接的密接", "en": "secondary contact"},
    "proposed": {"zh-Hans": "待确认", "zh-Hant": "待確認", "en": "proposed"},
    "rejected": {"zh-Hans": "已否决", "zh-Hant": "已否決", "en": "rejected"},
    "identified": {"zh-Hans": "已判定", "zh-Hant": "已判定", "en": "identified"},
    "notified": {"zh-Hans": "已通知", "zh-Hant": "已通知", "en": "notified"},
    "under_management": {"zh-Hans": "管控中", "zh-Hant": "管控中", "en": "under management"},
    "released": {"zh-Hans": "已解除", "zh-Hant": "已解除", "en": "released"},
    "became_case": {"zh-Hans": "转为病例", "zh-Hant": "轉為病例", "en": "became a case"},
    "lost_to_follow_up": {"zh-Hans": "失访", "zh-Hant": "失訪", "en": "lost to follow-up"},
}


class AssistStatus(StrEnum):
    """A cross-region assistance request (区域协查)."""

    sent = "sent"  # 已发出
    accepted = "accepted"  # 已接收
    answered = "answered"  # 已反馈


class AssistOutcome(StrEnum):
    pending = "pending"
    under_management = "under_management"  # 已落地管控
    negative_released = "negative_released"  # 核酸阴性, 已解除
    became_case = "became_case"  # 已转为病例
    not_found = "not_found"  # 查无此人
    left_jurisdiction = "left_jurisdiction"  # 已离开本辖区


LABELS.update({
    "sent": {"zh-Hans": "已发出", "zh-Hant": "已發出", "en": "sent"},
    "accepted": {"zh-Hans": "已接收", "zh-Hant": "已接收", "en": "accepted"},
    "answered": {"zh-Hans": "已反馈", "zh-Hant": "已反饋", "en": "answered"},
    "pending": {"zh-Hans": "待核查", "zh-Hant": "待核查", "en": "pending"},
    "negative_released": {"zh-Hans": "阴性已解除", "zh-Hant": "陰性已解除",
                          "en": "negative, released"},
    "not_found": {"zh-Hans": "查无此人", "zh-Hant": "查無此人", "en": "not found"},
    "left_jurisdiction": {"zh-Hans": "已离开本辖区", "zh-Hant": "已離開本轄區",
                          "en": "left the jurisdiction"},
})
LABELS.update({
    "interview": {"zh-Hans": "流调访谈", "zh-Hant": "流調訪談", "en": "named in the interview"},
    "draft": {"zh-Hans": "草稿", "zh-Hant": "草稿", "en": "draft"},
    "completed": {"zh-Hans": "已完成", "zh-Hant": "已完成", "en": "completed"},
    ASSIGNED: {"zh-Hans": "流调判定", "zh-Hant": "流調判定", "en": "decided by an epidemiologist"},
})

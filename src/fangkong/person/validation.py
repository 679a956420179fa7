"""Checks of personal identifiers, shared by the API schemas and the bulk importer.

Written by hand: the GB 11643-1999 check digit (ISO 7064 MOD 11-2) is a dozen lines, and the
bulk importer calls these per row, so they stay plain functions without per-call overhead.
Each raises ``ValueError`` with a message a person can act on: a catalogue message
(:func:`fangkong.core.validation.reason` gives it back), ``str()`` of the error its English.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

from fangkong.core.messages import Day
from fangkong.core.security import mask_middle
from fangkong.person.enums import ID_TYPE_ALIASES, SEX_ALIASES, IdType, Sex
from fangkong.person.messages import PM

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643 weights of the first 17 digits."""
CHECK_CHARS = "10X98765432"
"""The check character, by the weighted sum modulo 11."""
_WEIGHTS, _CHECK = WEIGHTS, CHECK_CHARS
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")
_DOC_RE = re.compile(r"^[A-Z0-9]{5,30}$")

# GB/T 2260 province-level codes, including 71 台湾, 81 香港, 82 澳门 which appear on
# resident ID numbers issued to their residents in the mainland.
PROVINCE_CODES = frozenset((
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
))


def check_digit(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are ``first17``."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


_ZERO_WEIGHT = ord("0") * sum(_WEIGHTS)


def ascii_check_digit(first17: str) -> str:
    """``check_digit`` for 17 ASCII digits (the caller has made sure of that), quickly."""
    return _CHECK[(sum(map(mul, first17.encode(), _WEIGHTS)) - _ZERO_WEIGHT) % 11]


def resident_id(number: str, *, today: date | None = None) -> tuple[str, date, Sex]:
    """Validate a mainland resident ID number; return it normalised, with its birth date and sex.

    The region code is checked at province level: county codes change over the years (districts
    merge and are renumbered) while an ID number keeps the code of its year of issue for life, so
    a current-code check would reject valid older numbers.
    """
    value = number.strip().upper()
    if not _ID_RE.match(value):
        raise ValueError(PM("v.resident_id"))
    if value[:2] not in PROVINCE_CODES:
        raise ValueError(PM("v.region", code=value[:6]))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError(PM("v.birth_not_date", digits=value[6:14])) from None
    if born > (today or date.today()) or born.year < 1880:
        raise ValueError(PM("v.birth_implausible", day=Day(born)))
    if check_digit(value[:17]) != value[17]:
        raise ValueError(PM("v.check_digit"))
    sex = Sex.male if int(value[16]) % 2 else Sex.female
    return value, born, sex


def document_number(id_type: IdType, number: str) -> str:
    value = number.strip().upper().replace(" ", "")
    if id_type is IdType.resident_id:
        return resident_id(value)[0]
    if not _DOC_RE.match(value):
        raise ValueError(PM("v.document"))
    return value


def phone(value: str) -> str:
    """Normalise a mainland mobile (13812345678) or landline (0759-1234567) number."""
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE_RE.match(digits) or _LANDLINE_RE.match(digits):
        return digits
    raise ValueError(PM("v.phone"))


def sex(value: str) -> Sex:
    try:
        return SEX_ALIASES[value.strip().lower()]
    except KeyError:
        raise ValueError(PM("v.sex")) from None


def id_type(value: str) -> IdType:
    try:
        return ID_TYPE_ALIASES[value.strip().lower()]
    except KeyError:
        allowed = ", ".join(t.value for t in IdType)
        raise ValueError(PM("v.id_type", allowed=allowed)) from None


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(value) == 11:
        return f"{value[:3]}****{value[7:]}"  # mask_middle(value, 3, 4), a bulk import's case
    return mask_middle(value, 3, 4)


def mask_document(value: str) -> str:
    """``440802199001011234`` → ``440802********1234``; other documents keep a quarter each end."""
    if len(value) == 18:
        return f"{value[:6]}********{value[14:]}"  # mask_middle(value, 6, 4)
    keep = max(1, len(value) // 4)
    return mask_middle(value, keep, keep)

"""The one type of a division code as input: every API parameter, body field and CLI option that
takes a division code checks it here, so that an empty or malformed code is refused (422, or the
CLI's error) instead of being read as a prefix of every code (``""`` covers the whole country).

Division codes are GB/T 2260 and the statistical codes: digits only, 2 (province), 4 (city),
6 (county), 9 (town) or 12 (village) long (:mod:`fangkong.core.auth` scopes on their prefixes).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from fangkong.core.auth import NATIONAL

LENGTHS = (2, 4, 6, 9, 12)
PATTERN = r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$"
_CODE = re.compile(PATTERN)

MESSAGES = {
    "zh-Hans": "不是行政区划代码：应为 2、4、6、9 或 12 位数字（省、市、区县、乡镇街道、村社区）",
    "zh-Hant": "不是行政區劃代碼：應為 2、4、6、9 或 12 位數字（省、市、區縣、鄉鎮街道、村社區）",
    "en": "not a division code: 2, 4, 6, 9 or 12 digits expected (province, city, county, "
          "town, village)",
}
"""The error, in each language of the platform (the API answers in the request's
``Accept-Language``)."""


def is_division_code(value: object) -> bool:
    return isinstance(value, str) and _CODE.match(value) is not None


def check(value: str) -> str:
    """``value`` if it is a division code; else a validation error carrying its translations
    (``ctx["messages"]``, read by the API's error handler)."""
    if not is_division_code(value):
        raise PydanticCustomError("division_code", MESSAGES["en"], {"messages": MESSAGES})
    return value


def check_jurisdiction(value: str) -> str:
    """A user's jurisdiction: a division code, or ``CN`` for the whole country."""
    return value if value == NATIONAL else check(value)


_SCHEMA: dict[str, Any] = {"type": "string", "pattern": PATTERN,
                           "description": "Division code: 2, 4, 6, 9 or 12 digits.",
                           "examples": ["4408", "440802"]}

DivisionCode = Annotated[str, AfterValidator(check), WithJsonSchema(_SCHEMA)]
"""A division code as an API parameter or a schema field (``str`` after validation)."""

def check_list(value: str) -> str:
    """Comma-separated division codes (none empty)."""
    for code in value.split(","):
        check(code)
    return value


DivisionCodes = Annotated[str, AfterValidator(check_list), WithJsonSchema(
    {"type": "string", "pattern": PATTERN[:-1] + "(," + PATTERN[1:-1] + ")*$",
     "description": "Division codes (2, 4, 6, 9 or 12 digits each), comma-separated.",
     "examples": ["440802,440803"]})]
"""Comma-separated division codes as one API parameter."""

Jurisdiction = Annotated[str, AfterValidator(check_jurisdiction), WithJsonSchema(
    {"type": "string", "pattern": PATTERN[:-2] + f"|{NATIONAL})$",
     "description": f"Division code (2, 4, 6, 9 or 12 digits) or {NATIONAL} (the country)."})]


def cli_option(value: Any) -> Any:
    """A typer ``callback`` for an option taking a division code (or a repeated option): the
    same check, as the CLI's usage error naming the option."""
    import typer

    for code in value if isinstance(value, list | tuple) else [value]:
        if code is not None and not is_division_code(code):
            raise typer.BadParameter(f"{code!r}: {MESSAGES['en']}")
    return value


def cli_list_option(value: str | None) -> str | None:
    """A typer ``callback`` for an option taking comma-separated division codes."""
    if value is not None:
        cli_option([c.strip() for c in value.split(",")])
    return value

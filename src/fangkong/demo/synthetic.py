"""Synthetic people with valid identifiers, for the demo, tests and benchmarks.

Every record is marked ``synthetic``. Deterministic: the same seed gives the same people.
ID numbers follow GB 11643 (region code of the person's county, birth date, sequence, check
digit); phones are 11-digit mobiles in the 199 range, all fictitious.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from fangkong.person.records import FIELDS
from fangkong.person.validation import check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建华文辉鹏飞志强海燕晓东丹凤嘉欣子豪梓涵浩然一诺雨桐思远佳怡俊杰"  # noqa: E501
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
# Shares of households by size, rounded from the 2020 census average of 2.62 persons per
# household (China, 7th census bulletin No. 2).
HOUSEHOLD_WEIGHTS = (0.25, 0.30, 0.21, 0.13, 0.07, 0.04)
REFERENCE_DAY = date(2022, 5, 1)


def resident_id(rng: random.Random, county: str, born: date, female: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.randrange(0, 5) * 2 + (0 if female else 1)
    first17 = f"{county}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def people(n: int, *, seed: int, places: Sequence[tuple[str, float]],
           ref_prefix: str = "SYN") -> Iterator[dict[str, str]]:
    """``n`` people in households, placed among ``places`` (division code, weight)."""
    rng = random.Random(seed)
    codes = [p[0] for p in places]
    weights = [p[1] for p in places]
    made = household = 0
    while made < n:
        household += 1
        code = rng.choices(codes, weights)[0]
        size = min(rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0], n - made)
        surname = rng.choice(SURNAMES)
        for _ in range(size):
            made += 1
            female = rng.random() < 0.49
            born = REFERENCE_DAY - timedelta(days=rng.randrange(0, 90 * 365))
            yield {
                "ref": f"{ref_prefix}{made:08d}",
                "name": surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                "sex": "female" if female else "male",
                "birth_date": born.isoformat(),
                "id_type": "resident_id",
                "id_number": resident_id(rng, code[:6], born, female),
                "phone": f"199{rng.randrange(0, 10**8):08d}" if rng.random() < 0.9 else "",
                "address": f"{rng.randrange(1, 300)}号",
                "division_code": code,
                "household_ref": f"{ref_prefix}H{household:08d}",
                "synthetic": "true",
            }


def to_csv(rows: Iterator[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(FIELDS))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()

"""The quick path of ``records.normalise`` gives exactly what the full checks give.

``records._usual`` handles the usual line of a clean file quickly and gives up on anything
else; these tests throw ordinary, odd and wrong values at it and compare with
``records._normalise``, and check the other quick helpers against their plain definitions.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from fangkong.core.security import FieldCipher
from fangkong.person import records
from fangkong.person import validation as v
from fangkong.person.enums import IdType, Sex
from tests.helpers import person_rows

TODAY = date(2024, 6, 1)
ODD_VALUES: list[Any] = [
    None, "", " ", "  x ", "\t", 0, 1, False, True, 3.0, date(2000, 1, 1),
    datetime(2000, 1, 1, 12, 0), "男", "女", "F", " female", "MALE", "m", "9", "u", "未知",
    "yes", "Y", "否", "TRUE", "no", "2", "x", "1990-02-30", "1990/1/2", "19900102",
    "2999-01-01", "0000-01-01", "1990-1-2", "１９９０-01-02", "1879-12-31", "passport",
    "护照", "Resident_ID", "身份证", "other", "13812345678", "138 1234 5678", "+8613812345678",
    "0759-1234567", "12812345678", "1381234567", "１3812345678", "440802199001011234",
    "44080219900101123x", "44080219900101123X", "440802199001011235", "990802199001011234",
    "440802199013011234", "44080218790101123X", "440802 199001011234", "E12345678",
    "٤٤٠٨٠٢١٩٩٠٠١٠١١٢٣٤", "a" * 13, "a" * 65, "a" * 101, "a" * 501, " " + "a" * 64,
    "4408031", "440803001001", "SYN1", "\u3000张三\u3000",
]


def _check(raw: dict[str, Any]) -> None:
    full_values, full_problems = records._normalise(raw, TODAY)
    quick = records._usual(raw, TODAY)
    if quick is not None:
        assert not full_problems, (raw, full_problems)
        assert quick == full_values, raw
        assert list(quick) == list(full_values)
        assert [type(x) for x in quick.values()] == [type(x) for x in full_values.values()]
    values, problems = records.normalise(raw, today=TODAY)
    assert (values, problems) == (full_values, full_problems)


def test_usual_lines_take_the_quick_path() -> None:
    for raw in person_rows(500, seed=7):
        values = records._usual(raw, TODAY)
        assert values is not None
        assert values == records._normalise(raw, TODAY)[0]


def test_quick_path_agrees_with_full_checks_on_odd_values() -> None:
    rng = random.Random(11)
    base = person_rows(60, seed=5)
    fields = [*records.FIELDS, "unknown_column"]
    for raw in base:
        for field in fields:
            for value in ODD_VALUES:
                _check({**raw, field: value})
        _check({k: val for k, val in raw.items() if k != rng.choice(fields)})
    for _ in range(5_000):
        raw = dict(rng.choice(base))
        for field in rng.sample(fields, rng.randint(1, 4)):
            raw[field] = rng.choice(ODD_VALUES)
        _check(raw)


def test_quick_path_agrees_on_derived_fields() -> None:
    for raw in person_rows(60, seed=9):
        number = raw["id_number"]
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        for sex in ("", "male", "female", "unknown"):
            for birth in ("", born.isoformat(), "1950-01-01"):
                for id_type in ("", "resident_id", "passport"):
                    _check({**raw, "sex": sex, "birth_date": birth, "id_type": id_type})


def test_api_shaped_values_are_checked_the_same() -> None:
    for raw in person_rows(50, seed=3):
        typed = {**raw, "sex": Sex(raw["sex"]), "birth_date": date.fromisoformat(
            raw["birth_date"]), "id_type": IdType.resident_id, "synthetic": True}
        _check(typed)


def test_quick_check_digit_and_lookup_hash() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert v.ascii_check_digit(first17) == v.check_digit(first17)
    for key in (b"k" * 32, b"short", b"x" * 100):
        cipher = FieldCipher(b"e" * 32, key)
        for value in ("13800138000", "resident_id:440802199001011234", "", "名字"):
            expected = hmac.new(key, value.encode(), hashlib.sha256).digest()
            assert cipher.lookup_hash(value) == expected
    cipher = FieldCipher(b"e" * 32, b"k" * 32)
    blobs = cipher.encrypt_many(["a", "440802199001011234", ""])
    assert [cipher.decrypt(b) for b in blobs] == ["a", "440802199001011234", ""]
    assert len({b[1:13] for b in blobs}) == 3


def _check_columns(raws: list[dict[str, Any]]) -> int:
    """``normalise_columns`` of the lines (all with the same fields, text or None) gives what
    ``normalise`` gives line by line; returns how many lines took the quick path."""
    fields = list(raws[0])
    columns = {f: pa.array([raw[f] for raw in raws], pa.string()) for f in fields}
    values, problems = records.normalise_columns(columns, TODAY)
    assert len(values) == len(raws)
    for row, raw in enumerate(raws):
        expected = records.normalise(raw, today=TODAY)
        assert (values[row], problems.get(row, [])) == expected, raw
        assert list(values[row]) == list(expected[0])
        assert [type(x) for x in values[row].values()] == [type(x) for x in
                                                             expected[0].values()]
    return sum(records._usual(raw, TODAY) is not None for raw in raws)


def _as_text(raw: dict[str, Any]) -> dict[str, Any]:
    """A line as a CSV file gives it: text, and None for a blank cell."""
    return {k: (None if x is None or x == "" else x) for k, x in raw.items()}


def test_columns_agree_with_line_by_line_checks() -> None:
    rng = random.Random(13)
    base = [_as_text(raw) for raw in person_rows(60, seed=5)]
    texts = [x for x in ODD_VALUES if isinstance(x, str) and x]
    texts += [first17 + v.check_digit(first17) for first17 in (  # only one thing wrong
        "99080219900101123", "44080219900231123", "44080229990101123", "44080218790101123")]
    raws = list(base)
    for raw in base[:20]:
        for field in records.FIELDS:
            raws += [{**raw, field: value} for value in [None, *texts]]
        raws += [{**raw, "id_number": value, "birth_date": None, "sex": None}  # nothing to
                 for value in texts]  # disagree with: the number alone decides
    for _ in range(3_000):
        raw = dict(rng.choice(base))
        for field in rng.sample(records.FIELDS, rng.randint(1, 3)):
            raw[field] = rng.choice([None, *texts])
        raws.append(raw)
    quick = _check_columns(raws)
    assert 0 < quick < len(raws)  # both paths were taken


def test_columns_agree_on_derived_fields_and_missing_columns() -> None:
    raws = []
    for raw in person_rows(40, seed=9):
        number = raw["id_number"]
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        for sex in (None, "male", "female", "男", "unknown"):
            for birth in (None, born.isoformat(), "1950-01-01"):
                for id_type in (None, "resident_id", "身份证", "passport"):
                    raws.append(_as_text({**raw, "sex": sex, "birth_date": birth,
                                          "id_type": id_type}))
    _check_columns(raws)
    for dropped in (("id_number", "id_type"), ("phone", "sex", "synthetic"),
                    ("birth_date", "address", "household_ref")):
        _check_columns([{k: x for k, x in raw.items() if k not in dropped} for raw in raws])
    assert records.normalise_columns({}, TODAY) == ([], {})

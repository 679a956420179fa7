"""One path from raw person fields (an API payload or a file's line) to database columns.

``normalise`` checks and normalises; ``to_columns`` encrypts, hashes and masks. The API, the
bulk importer, the demo and the benchmark all go through these two functions (the importer
through ``bulk_columns``, which is ``to_columns`` for many rows at once and what
``to_columns`` itself is built on).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from fangkong.core.errors import Problem
from fangkong.core.security import FieldCipher
from fangkong.person import validation as v
from fangkong.person.enums import ID_TYPE_ALIASES, SEX_ALIASES, IdType, Sex

FIELDS = ("ref", "name", "sex", "birth_date", "id_type", "id_number", "phone", "address",
          "division_code", "household_ref", "synthetic")
REQUIRED = ("ref", "name", "division_code")
_MAX_LEN = {"ref": 64, "name": 100, "household_ref": 64, "address": 500, "division_code": 12}


def parse_date(value: object, *, today: date | None = None) -> date:
    """``2022-05-09``, ``2022/5/9`` or ``20220509``; not in the future."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if "-" in text or "/" in text:
            y, m, d = (int(p) for p in text.replace("/", "-").split("-"))
            parsed = date(y, m, d)
        else:
            parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None
    if parsed > (today or date.today()):
        raise ValueError(f"{parsed.isoformat()} is in the future")
    return parsed


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "是"):
        return True
    if text in ("", "0", "false", "no", "n", "否"):
        return False
    raise ValueError("must be true or false")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise(raw: Mapping[str, Any], *, today: date | None = None
              ) -> tuple[dict[str, Any], list[Problem]]:
    """Check one person's fields. Returns the normalised values and the problems found.

    ``today`` (default: the current date) is what birth dates may not be later than; a bulk
    import passes one date for all its lines.
    """
    values = _usual(raw, today or date.today())
    if values is not None:
        return values, []
    return _normalise(raw, today)


# Exact spellings that need no stripping or case folding, for the quick path of ``_usual``.
_FLAG_WORDS = {**dict.fromkeys(("1", "true", "yes", "y", "是"), True),
               **dict.fromkeys(("", "0", "false", "no", "n", "否"), False)}
_ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ASCII_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_ASCII_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MISS = object()


def _text(value: object, limit: int) -> Any:
    """An optional text field in its usual form: None, or a ``str`` within ``limit`` after
    stripping; ``_MISS`` otherwise."""
    if value is None:
        return None
    if type(value) is not str or len(value) > limit:
        return _MISS
    value = value.strip()
    return value or None


def _word(value: object, words: Mapping[str, Any] | None, blank: Any) -> Any:
    """A field given as a plain string: ``blank`` for None or ""; with ``words``, the string's
    meaning (None if it has none); without, the string itself. ``_MISS`` for anything else."""
    if value is None or value == "":
        return blank
    if type(value) is not str:
        return _MISS
    return value if words is None else words.get(value)


def _usual(raw: Mapping[str, Any], today: date) -> dict[str, Any] | None:
    """``normalise`` for the usual line, quickly; None when anything is unusual.

    The usual line is what a clean CSV file holds: plain strings, a resident ID number (or
    none) in canonical form, an ISO birth date, an 11-digit mobile. Every check of
    ``_normalise`` is made here too, in the same order of precedence; whenever one would fail
    or a value is in an unusual form, this gives up and ``_normalise`` does the work and
    writes the messages. It must give exactly ``_normalise``'s values for the lines it
    accepts (tests/person/test_records_usual.py compares the two).
    """
    get = raw.get
    ref, name, code = get("ref"), get("name"), get("division_code")
    if type(ref) is not str or type(name) is not str or type(code) is not str:
        return None
    ref, name, code = ref.strip(), name.strip(), code.strip()
    if not (ref and name and code) or len(ref) > 64 or len(name) > 100 or len(code) > 12:
        return None
    household, address = _text(get("household_ref"), 64), _text(get("address"), 500)
    if household is _MISS or address is _MISS:
        return None
    flag = get("synthetic")
    synthetic = _FLAG_WORDS.get(flag) if type(flag) is str else (flag or False)
    if type(synthetic) is not bool:
        return None
    sex = _word(get("sex"), SEX_ALIASES, Sex.unknown)
    born = _word(get("birth_date"), None, None)
    if sex is None or sex is _MISS or born is _MISS:
        return None
    if born is not None:
        if not _ASCII_DATE.fullmatch(born):
            return None
        try:
            born = date.fromisoformat(born)
        except ValueError:
            return None
        if born > today:
            return None
    number, kind = _word(get("id_number"), None, None), None
    if number is not None:
        kind = _word(get("id_type"), ID_TYPE_ALIASES, IdType.resident_id)
        if (kind is not IdType.resident_id or number is _MISS
                or not _ASCII_RESIDENT_ID.fullmatch(number) or number[:2] not in v.PROVINCE_CODES
                or v.ascii_check_digit(number[:17]) != number[17]):
            return None
        try:
            from_id = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
        if from_id > today or from_id.year < 1880 or (born is not None and born != from_id):
            return None
        born = from_id
        sex_from_id = Sex.male if ord(number[16]) % 2 else Sex.female
        if sex is Sex.unknown:
            sex = sex_from_id
        elif sex is not sex_from_id:
            return None
    phone = _word(get("phone"), None, None)
    if phone is not None and (phone is _MISS or not _ASCII_MOBILE.fullmatch(phone)):
        return None
    return {"ref": ref, "name": name, "household_ref": household, "address": address,
            "division_code": code, "synthetic": synthetic, "sex": sex, "birth_date": born,
            "id_type": kind, "id_number": number, "phone": phone}


def _normalise(raw: Mapping[str, Any], today: date | None) -> tuple[dict[str, Any], list[Problem]]:
    """Every check, with a message for each problem found."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(message, field=field))

    for field in REQUIRED:
        if _blank(raw.get(field)):
            bad(field, "is required")
    for field, limit in _MAX_LEN.items():
        value = raw.get(field)
        out[field] = None if _blank(value) else str(value).strip()
        if out[field] is not None and len(out[field]) > limit:
            bad(field, f"is longer than {limit} characters")
    try:
        out["synthetic"] = _flag(raw.get("synthetic") or False)
    except ValueError as exc:
        bad("synthetic", str(exc))
    _identity(raw, out, bad, today)
    if not _blank(raw.get("phone")):
        try:
            out["phone"] = v.phone(str(raw["phone"]))
        except ValueError as exc:
            bad("phone", str(exc))
    else:
        out["phone"] = None
    return out, problems


def _identity(raw: Mapping[str, Any], out: dict[str, Any], bad: Any, today: date | None) -> None:
    """Document type and number, birth date and sex, checked against each other."""
    out["sex"], out["birth_date"], out["id_type"], out["id_number"] = Sex.unknown, None, None, None
    if not _blank(raw.get("sex")):
        try:
            out["sex"] = v.sex(str(raw["sex"]))
        except ValueError as exc:
            bad("sex", str(exc))
    if not _blank(raw.get("birth_date")):
        try:
            out["birth_date"] = parse_date(raw["birth_date"], today=today)
        except ValueError as exc:
            bad("birth_date", str(exc))
    number = raw.get("id_number")
    if _blank(number):
        return
    kind = IdType.resident_id
    if not _blank(raw.get("id_type")):
        try:
            kind = v.id_type(str(raw["id_type"]))
        except ValueError as exc:
            bad("id_type", str(exc))
            return
    out["id_type"] = kind
    try:
        if kind is IdType.resident_id:
            out["id_number"], born, sex = v.resident_id(str(number), today=today)
            _agree(out, "birth_date", born, bad)
            _agree(out, "sex", sex, bad, unset=Sex.unknown)
        else:
            out["id_number"] = v.document_number(kind, str(number))
    except ValueError as exc:
        bad("id_number", str(exc))


def _agree(out: dict[str, Any], field: str, derived: Any, bad: Any, unset: Any = None) -> None:
    if out[field] in (None, unset):
        out[field] = derived
    elif out[field] != derived:
        bad(field, f"{out[field]} disagrees with the ID number, which says {derived}")


def row_hash(values: Mapping[str, Any], key: bytes) -> str:
    """A keyed digest of the normalised fields: equal digests mean nothing changed."""
    return _row_hashes([values], key)[0]


def _row_hashes(rows: Sequence[Mapping[str, Any]], key: bytes) -> list[str]:
    return _column_row_hashes(_columns(rows, FIELDS, missing=True), key)


def _column_row_hashes(columns: Sequence[Sequence[Any]], key: bytes) -> list[str]:
    """``row_hash`` of each row, from the values of ``FIELDS`` given one column each (a
    birth date may be given as its ISO text: ``str`` of a date is that text)."""
    keyed = hashlib.blake2b(key=key[:32], digest_size=16)
    fields = [[x if x.__class__ is str else ("" if x is None else str(x)) for x in column]
              for column in columns]
    out = []
    for text in map("\x1f".join, zip(*fields, strict=True)):
        digest = keyed.copy()
        digest.update(text.encode())
        out.append(digest.hexdigest())
    return out


def _columns(rows: Sequence[Mapping[str, Any]], fields: Sequence[str], missing: bool = False
             ) -> list[tuple[Any, ...]]:
    """The values of ``fields`` in each row, as one tuple per field; with ``missing``, a field
    that a row lacks is None."""
    if not rows:
        return [() for _ in fields]
    if not missing or all(type(r) is dict for r in rows):
        try:
            return list(zip(*map(itemgetter(*fields), rows), strict=True))
        except KeyError:
            if not missing:
                raise
    return [tuple(r.get(f) for r in rows) for f in fields]


COLUMNS = ("ref", "name", "sex", "birth_date", "id_type", "id_number_enc", "id_number_hash",
           "id_number_masked", "phone_enc", "phone_hash", "phone_masked", "address",
           "division_code", "household_ref", "synthetic", "row_hash", "created_at", "updated_at")
"""The person table's columns that ``to_columns`` fills (all but ``id``)."""


def to_columns(values: Mapping[str, Any], cipher: FieldCipher, digest_key: bytes,
               now: datetime) -> dict[str, Any]:
    """Normalised values → the person table's columns (encrypted, hashed, masked)."""
    return {name: column[0] for name, column in
            bulk_columns([values], cipher, digest_key, now).items()}


def bulk_columns(rows: Sequence[Mapping[str, Any]], cipher: FieldCipher, digest_key: bytes,
                 now: datetime) -> dict[str, list[Any]]:
    """``to_columns`` of many rows at once: ``{column: [value of each row]}``.

    Column by column, because a bulk import spends its time here: each step is one pass over
    a list, and all the rows' random nonces are drawn at once.
    """
    return columns_of(_columns(rows, FIELDS), cipher, digest_key, now)


def columns_by_field(rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows' values of ``FIELDS``, one tuple per field (what ``columns_of`` takes)."""
    return _columns(rows, FIELDS)


def columns_of(fields: Sequence[Sequence[Any]], cipher: FieldCipher, digest_key: bytes,
               now: datetime) -> dict[str, list[Any]]:
    """``bulk_columns`` of rows given as one sequence of values per field of ``FIELDS``."""
    ref, name, sex, born, kinds, numbers, phones, address, code, household, synthetic = (
        list(column) for column in fields)
    n = len(ref)
    return {
        "ref": ref, "name": name, "sex": sex, "birth_date": born, "id_type": kinds,
        "id_number_enc": _encrypted(cipher, numbers),
        "id_number_hash": _id_hashes(cipher, kinds, numbers),
        "id_number_masked": [v.mask_document(n) if n else None for n in numbers],
        "phone_enc": _encrypted(cipher, phones),
        "phone_hash": _present(cipher.lookup_hashes, phones),
        "phone_masked": [v.mask_phone(p) if p else None for p in phones],
        "address": address, "division_code": code, "household_ref": household,
        "synthetic": synthetic, "row_hash": _column_row_hashes(fields, digest_key),
        "created_at": [now] * n, "updated_at": [now] * n,
    }


def _present(function: Callable[[list[Any]], list[Any]], values: list[Any]) -> list[Any]:
    """``function`` (one value in, one out, for a list) of the values that are set; None
    for the others."""
    results = iter(function([x for x in values if x]))
    return [next(results) if x else None for x in values]


def _id_hashes(cipher: FieldCipher, kinds: list[Any], numbers: list[Any]) -> list[bytes | None]:
    texts = [_id_text(k, n) if n else None for k, n in zip(kinds, numbers, strict=True)]
    return _present(cipher.lookup_hashes, texts)


def _encrypted(cipher: FieldCipher, values: list[Any]) -> list[bytes | None]:
    return _present(cipher.encrypt_many, values)


_ID_PREFIX: dict[Any, str] = {
    None: f"{IdType.resident_id.value}:", **{t: f"{t.value}:" for t in IdType},
    **{t.value: f"{t.value}:" for t in IdType},
}
"""``type:`` prefix of the text an identity document's lookup hash is taken of, by id_type."""


def id_lookup_hash(cipher: FieldCipher, id_type: IdType | str | None, number: str) -> bytes:
    """The keyed hash an identity document is found by: of ``type:NUMBER``."""
    return cipher.lookup_hash(_id_text(id_type, number))


def _id_text(id_type: IdType | str | None, number: str) -> str:
    prefix = _ID_PREFIX.get(id_type)
    if prefix is None:
        prefix = f"{(IdType(id_type) if id_type else IdType.resident_id).value}:"
    return prefix + number.strip().upper()

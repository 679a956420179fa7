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
from itertools import starmap
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.core.errors import Problem
from fangkong.core.messages import Day, Text
from fangkong.core.security import FieldCipher
from fangkong.core.validation import reason
from fangkong.person import validation as v
from fangkong.person.enums import ID_TYPE_ALIASES, SEX_ALIASES, IdType, Sex
from fangkong.person.messages import PM

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
        raise ValueError(PM("v.not_date", value=repr(text))) from None
    if parsed > (today or date.today()):
        raise ValueError(PM("v.future", day=Day(parsed)))
    return parsed


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "是"):
        return True
    if text in ("", "0", "false", "no", "n", "否"):
        return False
    raise ValueError(PM("v.flag"))


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
        born = _iso_date(born, today)
        if born is None:
            return None
    number, kind = _word(get("id_number"), None, None), None
    if number is not None:
        kind = _word(get("id_type"), ID_TYPE_ALIASES, IdType.resident_id)
        if (kind is not IdType.resident_id or number is _MISS
                or not _ASCII_RESIDENT_ID.fullmatch(number) or number[:2] not in v.PROVINCE_CODES
                or v.ascii_check_digit(number[:17]) != number[17]):
            return None
        from_id = _id_date(number[6:14], today)
        if from_id is None or (born is not None and born != from_id):
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

    def bad(field: str, message: str | Text) -> None:
        problems.append(Problem(message, field=field))

    for field in REQUIRED:
        if _blank(raw.get(field)):
            bad(field, PM("required"))
    for field, limit in _MAX_LEN.items():
        value = raw.get(field)
        out[field] = None if _blank(value) else str(value).strip()
        if out[field] is not None and len(out[field]) > limit:
            bad(field, PM("v.too_long", limit=limit))
    try:
        out["synthetic"] = _flag(raw.get("synthetic") or False)
    except ValueError as exc:
        bad("synthetic", reason(exc))
    _identity(raw, out, bad, today)
    if not _blank(raw.get("phone")):
        try:
            out["phone"] = v.phone(str(raw["phone"]))
        except ValueError as exc:
            bad("phone", reason(exc))
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
            bad("sex", reason(exc))
    if not _blank(raw.get("birth_date")):
        try:
            out["birth_date"] = parse_date(raw["birth_date"], today=today)
        except ValueError as exc:
            bad("birth_date", reason(exc))
    number = raw.get("id_number")
    if _blank(number):
        return
    kind = IdType.resident_id
    if not _blank(raw.get("id_type")):
        try:
            kind = v.id_type(str(raw["id_type"]))
        except ValueError as exc:
            bad("id_type", reason(exc))
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
        bad("id_number", reason(exc))


def _agree(out: dict[str, Any], field: str, derived: Any, bad: Any, unset: Any = None) -> None:
    if out[field] in (None, unset):
        out[field] = derived
    elif out[field] != derived:
        bad(field, PM("v.disagrees", value=out[field], derived=derived))


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


# -- many lines at once, from a file's text columns ------------------------------------------

_PY_SPACE = "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace())
_UNPADDED = f"(?s)^[^{_PY_SPACE}](.*[^{_PY_SPACE}])?\\z"
"""RE2: text that ``str.strip`` leaves as it is, and not blank."""
_CHECK_BYTES = np.frombuffer(v.CHECK_CHARS.encode(), np.uint8)
_ID_WEIGHTS = np.array(v.WEIGHTS, np.int64)
_PROVINCE = np.zeros(100, bool)
_PROVINCE[[int(code) for code in v.PROVINCE_CODES]] = True
_SEX_CODES: tuple[Sex, ...] = (Sex.unknown, Sex.male, Sex.female)
_SEXES = np.array(_SEX_CODES, object)
_KINDS = np.array([None, IdType.resident_id], object)


def normalise_columns(columns: Mapping[str, pa.Array], today: date
                      ) -> tuple[list[dict[str, Any]], dict[int, list[Problem]]]:
    """``normalise`` of many lines given as text columns (``None`` for a blank cell), one
    column per field the file has: each line's values, in order, and the problems of the
    lines that have any, by their index.

    The usual line (what ``_usual`` accepts, in plain text) is recognised per column: texts
    matched and measured in Arrow, the ID numbers' region codes, check digits and sex digits
    computed over all lines at once, and the values a file repeats (birth dates, sexes, flags)
    looked at once per distinct text. Every other line goes through ``normalise``, which
    writes its messages. tests/person/test_records_usual.py compares the two paths.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        return [], {}
    nulls = pa.nulls(n, pa.string())

    def col(field: str) -> pa.Array:
        return columns.get(field, nulls)

    ok = np.ones(n, bool)
    for field in REQUIRED:
        ok &= _unpadded(col(field), _MAX_LEN[field], blank_ok=False)
    for field in ("household_ref", "address"):
        ok &= _unpadded(col(field), _MAX_LEN[field], blank_ok=True)
    synthetic, fine = _per_text(col("synthetic"), _FLAG_WORDS.get, False)
    ok &= fine
    sexes_given, _ = _per_text(col("sex"), _sex_code, 0)
    sex_code = sexes_given.astype(np.int64)
    ok &= sex_code >= 0
    born, fine = _per_text(col("birth_date"), lambda t: _iso_date(t, today), None)
    ok &= fine
    born_given = ~_null(col("birth_date"))

    numbers = col("id_number")
    has_id = ~_null(numbers)
    if has_id.any():
        kind, fine = _per_text(col("id_type"), ID_TYPE_ALIASES.get, IdType.resident_id)
        ok &= ~has_id | (fine & (kind == IdType.resident_id))
        shaped = _fill(pc.match_substring_regex(numbers, r"^[0-9]{17}[0-9X]\z"))
        digits = _fixed_width(pc.if_else(pa.array(shaped), numbers, "0" * 18), 18)
        ok &= ~has_id | shaped
        ok &= ~has_id | _PROVINCE[(digits[:, 0] - 48) * 10 + digits[:, 1] - 48]
        check = ((digits[:, :17].astype(np.int64) - 48) @ _ID_WEIGHTS) % 11
        ok &= ~has_id | (digits[:, 17] == _CHECK_BYTES[check])
        from_id, fine = _per_text(pc.utf8_slice_codeunits(
            pc.if_else(pa.array(has_id & shaped), numbers, pa.scalar(None, pa.string())), 6, 14),
            lambda t: _id_date(t, today), None)
        ok &= ~has_id | fine
        same_day = _fill(pc.equal(pc.replace_substring(col("birth_date"), "-", ""),
                                  pc.utf8_slice_codeunits(numbers, 6, 14)))
        ok &= ~(has_id & born_given) | same_day
        id_sex = np.where(digits[:, 16] % 2 == 1, 1, 2)
        ok &= ~has_id | (sex_code == 0) | (sex_code == id_sex)
        sex_code = np.where(has_id, id_sex, sex_code)
        born = np.where(has_id, from_id, born)
    kinds = _KINDS[has_id.astype(np.int64)]
    ok &= _null(col("phone")) | _fill(pc.match_substring_regex(col("phone"),
                                                               r"^1[3-9][0-9]{9}\z"))

    sexes = _SEXES[np.where(sex_code < 0, 0, sex_code)]
    texts = {f: col(f).to_pylist() for f in ("ref", "name", "household_ref", "address",
                                                "division_code", "id_number", "phone")}
    usual = zip(texts["ref"], texts["name"], texts["household_ref"], texts["address"],
                texts["division_code"], synthetic.tolist(), sexes.tolist(), born.tolist(),
                kinds.tolist(), texts["id_number"], texts["phone"], strict=True)
    out = list(starmap(_usual_values, usual))
    problems: dict[int, list[Problem]] = {}
    unusual = np.flatnonzero(~ok).tolist()
    if unusual:
        given = {f: (texts[f] if f in texts else columns[f].to_pylist()) for f in columns}
        for row in unusual:
            out[row], found = normalise({f: cells[row] for f, cells in given.items()},
                                        today=today)
            if found:
                problems[row] = found
    return out, problems


def _usual_values(ref: str, name: str, household: str | None, address: str | None, code: str,
                  synthetic: bool, sex: Sex, born: date | None, kind: IdType | None,
                  number: str | None, phone: str | None) -> dict[str, Any]:
    """The values as ``_usual`` gives them (the same keys in the same order)."""
    return {"ref": ref, "name": name, "household_ref": household, "address": address,
            "division_code": code, "synthetic": synthetic, "sex": sex, "birth_date": born,
            "id_type": kind, "id_number": number, "phone": phone}


def _null(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), bool)


def _fill(mask: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), bool)


def _unpadded(arr: pa.Array, limit: int, *, blank_ok: bool) -> np.ndarray:
    """Lines whose text needs no stripping and is at most ``limit`` characters (or, with
    ``blank_ok``, is blank)."""
    fine = _fill(pc.and_(pc.match_substring_regex(arr, _UNPADDED),
                         pc.less_equal(pc.utf8_length(arr), limit)))
    return fine | _null(arr) if blank_ok else fine


def _per_text(arr: pa.Array, judge: Callable[[str], Any], blank: Any
              ) -> tuple[np.ndarray, np.ndarray]:
    """``judge`` of each line's text, called once per distinct text (``blank`` for a blank
    cell): the values, and where they are usual (``judge`` gave neither None nor ``_MISS``)."""
    encoded = pc.dictionary_encode(arr)
    judged = [judge(text) for text in encoded.dictionary.to_pylist()]
    values = np.empty(len(judged) + 1, object)
    values[:-1] = judged
    values[-1] = blank
    fine = np.array([x is not None and x is not _MISS for x in judged] + [True], bool)
    index = pc.fill_null(encoded.indices, len(judged)).to_numpy(zero_copy_only=False)
    return values[index], fine[index]


def _sex_code(text: str) -> int:
    """The index of the sex in ``_SEX_CODES``; -1 for a text that is no usual sex."""
    sex = SEX_ALIASES.get(text)
    return -1 if sex is None else _SEX_CODES.index(sex)


def _iso_date(text: str, today: date) -> date | None:
    """A birth date in its usual form (``YYYY-MM-DD``, not after ``today``); else None."""
    if not _ASCII_DATE.fullmatch(text):
        return None
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return None
    return None if born > today else born


def _id_date(text: str, today: date) -> date | None:
    """The birth date of a resident ID number (its ``YYYYMMDD``), if plausible; else None."""
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return None if born > today or born.year < 1880 else born


def _fixed_width(arr: pa.Array, width: int) -> np.ndarray:
    """The UTF-8 bytes of texts that are all ``width`` bytes long, one row each."""
    arr = arr.cast(pa.binary())
    offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(arr), width)

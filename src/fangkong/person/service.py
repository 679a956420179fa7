"""Person master records: create, update, find, list by jurisdiction (keyset pages)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Select, Table, func, select, tuple_
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope_clause, within
from fangkong.core.clock import utc_now
from fangkong.core.config import Settings, get_settings
from fangkong.core.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.core.pagination import cut_page, decode_cursor
from fangkong.core.security import FieldCipher
from fangkong.core.validation import reason
from fangkong.geo import service as geo
from fangkong.person import records
from fangkong.person import validation as v
from fangkong.person.enums import IdType, Sex
from fangkong.person.messages import PM
from fangkong.person.models import Person
from fangkong.person.models import phone_tail as tail_of
from fangkong.person.schemas import PersonCreate, PersonIdentifiers, PersonUpdate

LIST_FIELDS = ["ref", "name", "sex", "birth_date", "id_number_masked", "phone_masked",
               "division_code", "household_ref"]


def readable_clause(actor: Actor) -> ColumnElement[bool]:
    """The one rule of which persons an actor may read: those living in the actor's
    jurisdictions. Every lookup of a person (by id, ref, ID number or phone, one or many) and
    every list goes through it; a person outside it is answered exactly as one who does not
    exist. A visitor from elsewhere is seen only through an accepted stay (person.stays)."""
    return scope_clause(actor, Person.division_code)


def readable(actor: Actor) -> Select[Person]:
    """The persons the actor may read (:func:`readable_clause`), as a statement to narrow."""
    actor.require(Perm.person_read)
    return select(Person).where(readable_clause(actor))


@lru_cache(maxsize=4)
def _cipher(settings: Settings) -> FieldCipher:
    return FieldCipher.from_settings(settings)


def cipher() -> FieldCipher:
    return _cipher(get_settings())


def digest_key() -> bytes:
    return get_settings().key("lookup_key")


def _checked(session: Session, actor: Actor, raw: dict[str, Any]) -> dict[str, Any]:
    values, problems = records.normalise(raw)
    code = values.get("division_code")
    if code and not problems and not geo.exists(session, {code}):
        problems.append(Problem(PM("unknown_division", code=code), field="division_code"))
    if code and not actor.covers(code):
        problems.append(Problem(PM("outside", code=code), field="division_code"))
    if problems:
        raise Invalid(PM("invalid"), problems=problems)
    return values


def _id_taken(session: Session, columns: dict[str, Any], person_id: int | None) -> None:
    if columns["id_number_hash"] is None:
        return
    other = session.scalar(select(Person.id).where(
        Person.id_number_hash == columns["id_number_hash"]))
    if other is not None and other != person_id:
        raise Conflict(PM("id_taken"),
                       problems=[Problem(PM("id_taken_short"),
                                         field="id_number")])


def create(session: Session, *, actor: Actor, data: PersonCreate) -> Person:
    actor.require(Perm.person_write)
    values = _checked(session, actor, data.model_dump())
    if session.scalar(select(Person.id).where(Person.ref == values["ref"])) is not None:
        raise Conflict(PM("exists", ref=values["ref"]),
                       problems=[Problem(CORE("already_exists"), field="ref")])
    columns = records.to_columns(values, cipher(), digest_key(), utc_now())
    _id_taken(session, columns, None)
    person = Person(**columns)
    session.add(person)
    session.flush()
    audit.record(session, actor, action="create", record_type="person", record_ids=[person.id],
                 fields=[k for k, val in data.model_dump().items() if val is not None])
    return person


def update(session: Session, *, actor: Actor, person_id: int, data: PersonUpdate) -> Person:
    actor.require(Perm.person_write)
    person = get(session, actor=actor, person_id=person_id, audit_read=False)
    current = _plain(person)
    changes = data.model_dump(exclude_unset=True)
    values = _checked(session, actor, {**current, **changes})
    columns = records.to_columns(values, cipher(), digest_key(), utc_now())
    if columns["row_hash"] == person.row_hash:
        return person
    _id_taken(session, columns, person.id)
    del columns["created_at"]
    for key, val in columns.items():
        setattr(person, key, val)
    session.flush()
    audit.record(session, actor, action="update", record_type="person", record_ids=[person.id],
                 fields=sorted(changes))
    return person


def _plain(person: Person) -> dict[str, Any]:
    """The person's fields in the input shape, identifiers decrypted."""
    c = cipher()
    return {
        "ref": person.ref, "name": person.name, "sex": person.sex,
        "birth_date": person.birth_date, "id_type": person.id_type,
        "id_number": c.decrypt(person.id_number_enc) if person.id_number_enc else None,
        "phone": c.decrypt(person.phone_enc) if person.phone_enc else None,
        "address": person.address, "division_code": person.division_code,
        "household_ref": person.household_ref, "synthetic": person.synthetic,
    }


def get(session: Session, *, actor: Actor, person_id: int, audit_read: bool = True) -> Person:
    """One person inside the actor's jurisdiction; out of scope looks exactly like missing."""
    actor.require(Perm.person_read)
    person = session.scalar(readable(actor).where(Person.id == person_id))
    if person is None:
        raise NotFound(PM("not_found", id=person_id))
    if audit_read:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=[person.id], fields=LIST_FIELDS)
    return person


def get_many(session: Session, *, actor: Actor, person_ids: set[int]) -> dict[int, Person]:
    """Those of these persons the actor may read, by id (one audited read); any other id is
    left out, as one that does not exist."""
    actor.require(Perm.person_read)
    found: dict[int, Person] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 900):
        found.update((p.id, p) for p in session.scalars(readable(actor).where(
            Person.id.in_(ordered[start:start + 900]))))
    if found:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=sorted(found), fields=LIST_FIELDS)
    return found


def readable_ids(session: Session, *, actor: Actor, person_ids: set[int]) -> set[int]:
    """Those of these persons the actor may read, by id only (no field of theirs is read, so
    nothing is audited): for a list that orders and counts many and shows a page of them,
    whose shown persons are then read with :func:`get_many`."""
    actor.require(Perm.person_read)
    found: set[int] = set()
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 900):
        found.update(session.scalars(select(Person.id).where(
            readable_clause(actor), Person.id.in_(ordered[start:start + 900]))))
    return found


def get_by_ref(session: Session, *, actor: Actor, ref: str) -> Person:
    person = session.scalar(readable(actor).where(Person.ref == ref))
    if person is None:
        raise NotFound(PM("ref_not_found", ref=ref))
    return person


def identifiers(session: Session, *, actor: Actor, person_id: int) -> PersonIdentifiers:
    """Unmasked identity number and phone, audited as such."""
    if not actor.can(Perm.person_write):
        raise Forbidden(PM("identifiers"))
    person = get(session, actor=actor, person_id=person_id, audit_read=False)
    plain = _plain(person)
    audit.record(session, actor, action="read", record_type="person", record_ids=[person.id],
                 fields=["id_number", "phone"])
    return PersonIdentifiers(id=person.id, id_type=person.id_type,
                             id_number=plain["id_number"], phone=plain["phone"])


def list_(
    session: Session,
    *,
    actor: Actor,
    division: str | None = None,
    name: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    household_ref: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Person], str | None]:
    """A page of persons in the actor's jurisdiction, ordered by (division, id)."""
    stmt = readable(actor)
    if division:
        stmt = stmt.where(within(Person.division_code, division))
    if name:
        stmt = stmt.where(Person.name == name)
    if id_number:
        hashes = [records.id_lookup_hash(cipher(), kind, id_number) for kind in IdType]
        stmt = stmt.where(Person.id_number_hash.in_(hashes))
    if phone:
        try:
            stmt = stmt.where(Person.phone_hash == cipher().lookup_hash(v.phone(phone)))
        except ValueError as exc:
            raise Invalid(reason(exc), problems=[Problem(reason(exc), field="phone")]) from None
    if household_ref:
        stmt = stmt.where(Person.household_ref == household_ref)
    key = decode_cursor(cursor, 2)
    if key:
        stmt = stmt.where(tuple_(Person.division_code, Person.id) > tuple_(key[0], key[1]))
    stmt = stmt.order_by(Person.division_code, Person.id).limit(limit + 1)
    people, nxt = cut_page(session.scalars(stmt).all(), limit,
                           lambda p: [p.division_code, p.id])
    if people:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=[p.id for p in people], fields=LIST_FIELDS,
                     detail={"query": {"division": division, "name": name,
                                       "by_id_number": bool(id_number), "by_phone": bool(phone)}})
    return people, nxt


def search(session: Session, *, actor: Actor, name_prefix: str | None = None,
           phone_tail: str | None = None, limit: int = 20) -> list[Person]:
    """Persons of the actor's jurisdiction whose name begins with ``name_prefix`` ("张" finds
    张三) or whose phone ends with the four digits ``phone_tail``; at most ``limit``, by name.
    Both are answered from an index (``ix_person_name_prefix``, ``ix_person_phone_tail``):
    the name as LIKE 'prefix%' on PostgreSQL, as a range on SQLite (whose LIKE ignores
    indexes), then the jurisdiction."""
    stmt = readable(actor)
    if phone_tail is not None and not (len(phone_tail) == 4 and phone_tail.isdigit()):
        return []  # four digits or nothing: the masked phone keeps no more
    if name_prefix:
        if session.get_bind().dialect.name == "postgresql":
            quoted = (name_prefix.replace("\\", "\\\\").replace("%", "\\%")
                      .replace("_", "\\_"))
            stmt = stmt.where(Person.name.like(quoted + "%", escape="\\"))
        else:
            stmt = stmt.where(Person.name >= name_prefix,
                              Person.name < name_prefix + "\U0010ffff")
    if phone_tail:
        stmt = stmt.where(tail_of(Person.phone_masked) == phone_tail)
    if not (name_prefix or phone_tail):
        return []
    found = sorted(session.scalars(stmt.limit(limit)).all(), key=lambda p: (p.name, p.id))
    if found:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=[p.id for p in found], fields=LIST_FIELDS,
                     detail={"query": {"name_prefix": name_prefix,
                                       "by_phone_tail": bool(phone_tail)}})
    return found


def ids_by_ref(session: Session, *, actor: Actor, refs: set[str]) -> dict[str, int]:
    """Map refs to person ids, inside the actor's jurisdiction only."""
    found: dict[str, int] = {}
    ordered = sorted(refs)
    for start in range(0, len(ordered), 900):
        stmt = select(Person.ref, Person.id).where(
            Person.ref.in_(ordered[start : start + 900]), readable_clause(actor))
        found.update({r: i for r, i in session.execute(stmt)})
    return found


def divisions_of(session: Session, person_ids: set[int], *,
                 actor: Actor | None = None) -> dict[int, str]:
    """The division code of each of ``person_ids`` that is a person, by id; with ``actor``,
    only those the actor may read (:func:`readable_clause`): any other id is answered as one
    that does not exist."""
    found: dict[int, str] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 900):
        stmt = select(Person.id, Person.division_code).where(
            Person.id.in_(ordered[start : start + 900]))
        if actor is not None:
            stmt = stmt.where(readable_clause(actor))
        found.update({i: c for i, c in session.execute(stmt)})
    return found


class Summary(NamedTuple):
    """What a page shows of the person behind a record the reader may see (a case)."""

    name: str
    sex: Sex
    birth_year: int | None
    ref: str


def summary(session: Session, *, actor: Actor, person_id: int, via: str) -> Summary:
    """The person behind a record the actor may read (the caller checked that record): name,
    sex, birth year and ref, audited as a read ``via`` the caller."""
    row = session.execute(select(Person.name, Person.sex, Person.birth_date, Person.ref)
                          .where(Person.id == person_id)).first()
    if row is None:
        raise NotFound(PM("not_found", id=person_id))
    audit.record(session, actor, action="read", record_type="person", record_ids=[person_id],
                 fields=["name", "sex", "birth_date", "ref"], detail={"via": via})
    return Summary(row[0], row[1], row[2].year if row[2] else None, row[3])


def names_behind(session: Session, *, actor: Actor, person_ids: set[int], via: str
                 ) -> dict[int, str]:
    """The names of the persons behind records the actor may read (a page of cases), by id,
    audited as a read of the names ``via`` the caller."""
    found: dict[int, str] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 900):
        stmt = select(Person.id, Person.name).where(Person.id.in_(ordered[start : start + 900]))
        found.update({i: n for i, n in session.execute(stmt)})
    if found:
        audit.record(session, actor, action="read", record_type="person",
                     record_ids=sorted(found), fields=["name"], detail={"via": via})
    return found


class Home(NamedTuple):
    """Where a person lives and their household: what another domain's record about them
    (a stay) takes from their master record."""

    division_code: str
    household_ref: str | None


def homes(session: Session, person_ids: set[int]) -> dict[int, Home]:
    """The :class:`Home` of each person, by id (ids the caller found in the actor's
    jurisdiction)."""
    found: dict[int, Home] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 900):
        stmt = select(Person.id, Person.division_code, Person.household_ref).where(
            Person.id.in_(ordered[start : start + 900]))
        found.update({i: Home(c, h) for i, c, h in session.execute(stmt)})
    return found


def table() -> Table:
    """The persons' table, for another domain's set-based joins (a bulk import's staging
    table joined with persons by ref): read its ``id``, ``ref``, ``division_code`` and
    ``household_ref``, and narrow it with :func:`readable_clause`. Other domains do not
    import the person model itself.

    Kept on purpose (issue 18): its users are testing's set-based statements over up to every
    person of a city (a round's targets from its area, the samples import joined with persons
    by ref in one INSERT ... SELECT, coverage and follow-up counts), which a list of ids through
    Python would make a million-row round trip; the web layer no longer uses it."""
    return cast(Table, Person.__table__)


# --- for other domains that refer to persons by id (unscoped unless an actor is given) ---------

def housemates(session: Session, person_id: int) -> list[Person]:
    """The other persons of the person's household (none without a household), by id."""
    me = session.get(Person, person_id)
    if me is None or not me.household_ref:
        return []
    return list(session.scalars(select(Person).where(
        Person.household_ref == me.household_ref, Person.id != person_id).order_by(Person.id)))


def known_ids(session: Session, ids: list[int]) -> list[int]:
    """Those of ``ids`` (distinct) that are persons. When every id of their span exists, that
    is one count and no row is read back."""
    if ids:
        lo, hi = min(ids), max(ids)
        if session.scalar(select(func.count()).select_from(Person).where(
                Person.id.between(lo, hi))) == hi - lo + 1:
            return list(ids)
    known: list[int] = []
    for start in range(0, len(ids), 5000):
        known += session.scalars(select(Person.id).where(
            Person.id.in_(ids[start:start + 5000]))).all()
    return known


def refs_with_prefix(session: Session, prefix: str, *,
                     limit: int | None = None) -> list[tuple[str, int, str]]:
    """(ref, id, division code) of the persons whose ref starts with ``prefix``, by id (a
    synthetic population's, as the demo and the drill name them)."""
    stmt = select(Person.ref, Person.id, Person.division_code).where(
        Person.ref.like(f"{prefix}%")).order_by(Person.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(r, i, c) for r, i, c in session.execute(stmt)]


def refs_by_id_hash(session: Session, hashes: list[bytes]) -> list[tuple[bytes, str]]:
    """(ID number lookup hash, ref) of the persons holding any of ``hashes``."""
    out: list[tuple[bytes, str]] = []
    for start in range(0, len(hashes), 500):
        out += [(h, r) for h, r in session.execute(
            select(Person.id_number_hash, Person.ref).where(
                Person.id_number_hash.in_(hashes[start:start + 500]))) if h]
    return out

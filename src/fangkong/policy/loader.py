"""Reading pack files: YAML → ``extends`` resolved → validated :class:`Pack`.

How ``extends`` merges (also in ``PACKS.md``):

- A pack ``extends`` at most one parent, by id; the parent is the file ``<id>.yaml`` in the same
  directory. Chains are allowed (cn_new_10 → cn_20_measures → cn_v9); a cycle is an error.
- The identity keys (:data:`IDENTITY`) are never inherited: each file states its own.
- Every other key merges recursively: a mapping merges key by key with the parent's mapping;
  any other value (a text, a number, a list) replaces the parent's value whole (lists are
  never concatenated, so a child that changes one phase restates the role's ``phases``).
- A key set to ``null`` removes the inherited key (the schema's default then applies; e.g.
  ``medium: null`` under ``zones.levels`` removes the medium level).
- Validation runs on the merged result. A problem is reported against the file that wrote the
  deepest part of the offending key path (the child when both did).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fangkong.core.errors import Invalid, NotFound, Problem
from fangkong.policy.messages import P
from fangkong.policy.pack import Pack, cross_check

PACKS_DIR = Path(__file__).parent / "packs"
IDENTITY = frozenset({"id", "version", "title", "document", "issuer", "published", "in_force",
                      "extends", "summary"})
KeyPath = tuple[str | int, ...]


@dataclass
class _Files:
    """The raw mappings read so far, by pack id, with the problems met reading them."""

    directory: Path
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def read(self, pack_id: str, path: Path | None = None) -> dict[str, Any] | None:
        if pack_id in self.raw:
            return self.raw[pack_id]
        path = path or self.directory / f"{pack_id}.yaml"
        data = _read_yaml(path, self.problems)
        if data is None:
            return None
        if data.get("id") != pack_id:
            self.problems.append(Problem(P("load.id_mismatch", expected=pack_id,
                                           got=repr(data.get("id"))), field="id",
                                         file=str(path)))
            return None
        self.raw[pack_id], self.paths[pack_id] = data, path
        return data


def _read_yaml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(P("load.no_file"), file=str(path)))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(P("load.not_yaml", problem=getattr(exc, "problem", None) or exc),
                                file=str(path), line=mark.line + 1 if mark else None))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(P("load.not_mapping", got=type(data).__name__), file=str(path)))
        return None
    return data


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge, other values replace, ``None`` removes."""
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _chain(files: _Files, pack_id: str) -> list[str] | None:
    """``pack_id`` and its ancestors, child first; None (with a problem) when broken."""
    chain = [pack_id]
    while True:
        raw = files.raw[chain[-1]]
        parent = raw.get("extends")
        if parent is None:
            return chain
        where = files.paths[chain[-1]]
        if not isinstance(parent, str):
            files.problems.append(Problem(P("load.not_id", got=repr(parent)),
                                          field="extends", file=str(where)))
            return None
        if parent in chain:
            files.problems.append(Problem(P("load.cycle", chain=" → ".join([*chain, parent])),
                                          field="extends", file=str(where)))
            return None
        if parent not in files.raw and not (files.directory / f"{parent}.yaml").exists():
            files.problems.append(Problem(
                P("load.no_parent", parent=parent, directory=files.directory),
                field="extends", file=str(where)))
            return None
        if files.read(parent) is None:
            files.problems.append(Problem(
                P("load.bad_parent", parent=parent, directory=files.directory),
                field="extends", file=str(where)))
            return None
        chain.append(parent)


def _resolve(files: _Files, chain: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for pack_id in reversed(chain):
        inherited = {k: v for k, v in merged.items() if k not in IDENTITY}
        merged = merge(inherited, files.raw[pack_id])
    merged["lineage"] = chain
    text = json.dumps(merged, sort_keys=True, default=str, ensure_ascii=False)
    merged["digest"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return merged


def _depth(raw: Any, path: KeyPath) -> int:
    depth = 0
    for key in path:
        in_dict = isinstance(raw, dict) and key in raw
        in_list = isinstance(raw, list) and isinstance(key, int) and 0 <= key < len(raw)
        if not (in_dict or in_list):
            break
        raw = raw[key]
        depth += 1
    return depth


def _origin(files: _Files, chain: list[str], path: KeyPath) -> str:
    """The file that wrote the deepest part of ``path`` (child first on ties)."""
    best, best_depth = chain[0], -1
    for pack_id in chain:
        raw = files.raw[pack_id]
        if path and path[0] in IDENTITY and pack_id != chain[0]:
            continue
        depth = _depth(raw, path)
        if depth > best_depth:
            best, best_depth = pack_id, depth
    return str(files.paths[best])


def dotted(path: KeyPath) -> str:
    """``("roles", "close_contact", "phases", 0, "days")`` →
    ``roles.close_contact.phases[0].days``."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def describe(error: Any) -> str:
    """A pydantic error as what was expected and what was found."""
    kind, msg = error["type"], str(error["msg"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (not part of the schema: check its spelling and indentation)"
    value = error.get("input")
    if isinstance(value, dict | list):
        return f"{msg} (got a {type(value).__name__})"
    return f"{msg} (got {value!r})"


def _validate(files: _Files, chain: list[str]) -> Pack | None:
    merged = _resolve(files, chain)
    try:
        pack = Pack.model_validate(merged)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            files.problems.append(Problem(describe(error), field=dotted(loc),
                                          file=_origin(files, chain, loc)))
        return None
    found = cross_check(pack)
    for path, message in found:
        files.problems.append(Problem(message, field=dotted(path),
                                      file=_origin(files, chain, path)))
    return None if found else pack


def _load(files: _Files, seeds: dict[str, Path]) -> dict[str, Pack]:
    for pack_id, path in seeds.items():
        files.read(pack_id, path)
    packs: dict[str, Pack] = {}
    for pack_id in seeds:
        if pack_id not in files.raw:
            continue
        chain = _chain(files, pack_id)
        pack = _validate(files, chain) if chain else None
        if pack is not None:
            packs[pack_id] = pack
    if files.problems:
        count = len({p.file for p in files.problems})
        raise Invalid(P("packs_invalid", count=count),
                      problems=files.problems)
    return packs


def load_packs(directory: Path | None = None) -> dict[str, Pack]:
    """Every ``*.yaml`` pack in ``directory`` (default: the packs shipped with Fangkong),
    by id. Any invalid file fails the whole load with every problem found."""
    if directory is None:
        return _shipped()
    seeds = {p.stem: p for p in sorted(Path(directory).glob("*.yaml"))}
    return _load(_Files(Path(directory)), seeds)


def load_pack(path: Path) -> Pack:
    """One pack file, with the ancestors it extends from the same directory."""
    path = Path(path)
    return _load(_Files(path.parent), {path.stem: path})[path.stem]


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Pack]:
    return load_packs(PACKS_DIR)


def get(pack_id: str, directory: Path | None = None) -> Pack:
    packs = load_packs(directory)
    if pack_id not in packs:
        raise NotFound(P("no_pack", pack=pack_id, available=", ".join(sorted(packs))))
    return packs[pack_id]

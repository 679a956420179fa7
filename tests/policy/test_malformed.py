"""A wrong pack fails with the file, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fangkong.core.errors import Invalid, Problem
from fangkong.policy import loader
from tests.policy.helpers import mini, write


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(Invalid) as exc:
        loader.load_pack(path)
    assert "not valid" in exc.value.message
    return exc.value.problems


def only(path: Path) -> Problem:
    found = problems_of(path)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def role(**changes: Any) -> dict[str, Any]:
    data = mini()
    data["roles"]["close_contact"].update(changes)
    return data


def test_the_minimal_pack_is_valid(tmp_path: Path) -> None:
    assert loader.load_pack(write(tmp_path, mini())).id == "mini"


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text("id: mini\nversion: '1.0.0'\ndocument: a: b\n")
    problem = only(path)
    assert problem.file == str(path) and problem.line == 3
    assert "not valid YAML" in problem.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text("- a\n- b\n")
    assert "expected a mapping" in only(path).message


def test_wrong_type(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["days"] = "seven"
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].days"
    assert "valid integer" in problem.message and "'seven'" in problem.message
    assert str(problem).startswith(f"{tmp_path / 'mini.yaml'} roles.close_contact.phases[0].days:")


def test_out_of_range(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["days"] = 0
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].days"
    assert "greater than or equal to 1" in problem.message and "got 0" in problem.message


def test_missing_key(tmp_path: Path) -> None:
    data = mini()
    del data["version"]
    problem = only(write(tmp_path, data))
    assert (problem.field, problem.message) == ("version", "required key is missing")


def test_version_must_be_a_quoted_string(tmp_path: Path) -> None:
    problem = only(write(tmp_path, mini(version=1.0)))
    assert problem.field == "version" and "valid string" in problem.message


def test_misspelt_key(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["test_dayz"] = [1]
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].test_dayz"
    assert "unknown key" in problem.message


def test_bad_enum_value_lists_what_is_expected(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["kind"] = "house_arrest"
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].kind"
    assert "centralized_quarantine" in problem.message and "house_arrest" in problem.message


def test_unknown_source(tmp_path: Path) -> None:
    problem = only(write(tmp_path, role(source=["s1", "nowhere"])))
    assert problem.field == "roles.close_contact.source[1]"
    assert "unknown source 'nowhere'" in problem.message and "s1" in problem.message


def test_unknown_ambiguity(tmp_path: Path) -> None:
    problem = only(write(tmp_path, role(ambiguity="why")))
    assert problem.field == "roles.close_contact.ambiguity"


def test_test_day_outside_its_phase(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["test_days"] = [1, 9]
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].test_days[1]"
    assert problem.message == "test day 9 is outside the phase's days 1..7"


def test_test_days_must_increase(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["test_days"] = [3, 1]
    problem = only(write(tmp_path, data))
    assert problem.field == "roles.close_contact.phases[0].test_days"
    assert "strictly increasing" in problem.message


def test_managed_role_needs_phases_and_unmanaged_an_explanation(tmp_path: Path) -> None:
    assert only(write(tmp_path, role(phases=[]))).field == "roles.close_contact.phases"
    problem = only(write(tmp_path, role(managed=False, phases=[])))
    assert problem.field == "roles.close_contact.explanation"
    problem = only(write(tmp_path, role(managed=False, explanation="x")))
    assert problem.message == "an unmanaged role has no phases (remove them)"


def test_condition_to_unknown_role(tmp_path: Path) -> None:
    cond = {"id": "up", "when": "w", "then": "t", "becomes_role": "ghost", "source": "s1",
            "confidence": "B"}
    problem = only(write(tmp_path, role(conditions=[cond])))
    assert problem.field == "roles.close_contact.conditions[0].becomes_role"
    assert "close_contact" in problem.message


def test_lifting_must_go_down_and_reach_the_base(tmp_path: Path) -> None:
    data = mini()
    data["zones"]["levels"]["high"]["lifting"][0]["to_level"] = "high"
    found = problems_of(write(tmp_path, data))
    assert {p.field for p in found} == {"zones.levels.high.lifting[0].to_level",
                                        "zones.levels.high.lifting"}
    data = mini()
    data["zones"]["levels"]["high"]["lifting"][0]["to_level"] = "medium"
    problem = only(write(tmp_path, data))
    assert problem.field == "zones.levels.high.lifting[0].to_level"
    assert "expected one of: high, low" in problem.message


def test_round_outside_the_clean_window(tmp_path: Path) -> None:
    data = mini()
    data["zones"]["levels"]["high"]["lifting"][0]["round"] = {"from_day": 7, "to_day": 8}
    problem = only(write(tmp_path, data))
    assert problem.field == "zones.levels.high.lifting[0].round"
    assert "clean_days (7)" in problem.message


def test_base_level_must_exist(tmp_path: Path) -> None:
    data = mini()
    data["zones"]["base_level"] = "lowest"
    assert only(write(tmp_path, data)).field == "zones.base_level"


def test_prohibitions_need_all_nine(tmp_path: Path) -> None:
    data = mini(prohibitions={
        "source": "s1", "confidence": "A", "texts": {i: f"t{i}" for i in range(1, 9)},
        "travel_restricted_levels": ["high"],
        "venue_closure": {"allowed_levels": ["high"], "essential_only": True},
        "checkpoint_pass": {"from_levels": ["low", "none", "nowhere"]},
        "protected_patients": ["emergency"],
        "students": {"protected_levels": ["low"], "conditions": []}})
    found = {p.field: p.message for p in problems_of(write(tmp_path, data))}
    assert found["prohibitions.texts"] == "expected exactly the keys 1 to 9"
    assert "unknown level 'nowhere'" in found["prohibitions.checkpoint_pass.from_levels[2]"]


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    problem = only(write(tmp_path, mini(), name="other"))
    assert problem.field == "id" and "expected 'other'" in problem.message


def test_missing_parent(tmp_path: Path) -> None:
    problem = only(write(tmp_path, mini(id="kid", extends="ghost")))
    assert problem.field == "extends" and "parent pack 'ghost'" in problem.message
    assert problem.file == str(tmp_path / "kid.yaml")


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path, mini(id="a", extends="b"))
    write(tmp_path, mini(id="b", extends="a"))
    with pytest.raises(Invalid) as exc:
        loader.load_packs(tmp_path)
    assert any("extends cycle: a → b → a" in p.message for p in exc.value.problems)


def test_a_problem_is_reported_against_the_file_that_wrote_it(tmp_path: Path) -> None:
    write(tmp_path, mini())
    kid = {"id": "kid", "version": "1.0.0", "extends": "mini", "title": {"zh": "子", "en": "k"},
           "document": "k", "issuer": "k", "published": "2022-02-01",
           "in_force": {"start": "2022-02-01"},
           "roles": {"close_contact": {"phases": [{"kind": "home_quarantine", "days": -1}]}}}
    problem = only(write(tmp_path, kid))
    assert problem.file == str(tmp_path / "kid.yaml")
    assert problem.field == "roles.close_contact.phases[0].days"
    kid["roles"] = {"close_contact": {"source": ["s9"]}}
    problem = only(write(tmp_path, kid))
    assert problem.file == str(tmp_path / "kid.yaml") and problem.field.endswith("source[0]")


def test_an_inherited_problem_points_at_the_parent(tmp_path: Path) -> None:
    data = mini()
    data["roles"]["close_contact"]["phases"][0]["days"] = "x"
    write(tmp_path, data)
    kid = {"id": "kid", "version": "1.0.0", "extends": "mini", "title": {"zh": "子", "en": "k"},
           "document": "k", "issuer": "k", "published": "2022-02-01",
           "in_force": {"start": "2022-02-01"}}
    with pytest.raises(Invalid) as exc:
        loader.load_pack(write(tmp_path, kid))
    assert {p.file for p in exc.value.problems} == {str(tmp_path / "mini.yaml")}


def test_null_removes_an_inherited_key(tmp_path: Path) -> None:
    write(tmp_path, mini())
    kid = {"id": "kid", "version": "1.0.0", "extends": "mini", "title": {"zh": "子", "en": "k"},
           "document": "k", "issuer": "k", "published": "2022-02-01",
           "in_force": {"start": "2022-02-01"}, "zones": None}
    assert loader.load_pack(write(tmp_path, kid)).zones is None


def test_every_problem_of_every_file_is_listed(tmp_path: Path) -> None:
    write(tmp_path, mini(id="a", version="x"))
    write(tmp_path, mini(id="b", issuer=None))
    with pytest.raises(Invalid) as exc:
        loader.load_packs(tmp_path)
    assert exc.value.message.startswith("2 policy pack file(s)")
    assert {(Path(p.file or "").name, p.field) for p in exc.value.problems} == {
        ("a.yaml", "version"), ("b.yaml", "issuer")}


def test_missing_file(tmp_path: Path) -> None:
    assert only(tmp_path / "nothing.yaml").message == "no such pack file"

from __future__ import annotations

from pathlib import Path

import pytest

from fangkong.core.config import get_settings
from fangkong.core.errors import NotFound
from fangkong.policy import loader, service
from fangkong.policy.enums import STANDARD_ROLES
from fangkong.policy.loader import merge
from tests.policy.helpers import mini, write

SHIPPED = ["cn_v8_local_3zones", "who_2021", "cn_shanghai_2022_04", "cn_shanghai_2022_05",
           "cn_shanghai_2022_06", "cn_v9", "cn_20_measures", "cn_new_10"]


def test_every_shipped_pack_loads_and_validates() -> None:
    packs = service.packs()
    assert [p.id for p in packs] == SHIPPED  # by publication date
    for pack in packs:
        assert pack.version == "1.0.0" and len(pack.digest) == 16
        assert set(STANDARD_ROLES) <= set(pack.roles), pack.id
        assert pack.lineage[0] == pack.id


def test_each_pack_of_the_issue_is_shipped_with_its_date() -> None:
    published = {p.id: str(p.published) for p in service.packs()}
    assert published["cn_v9"] == "2022-06-28"
    assert published["cn_20_measures"] == "2022-11-11"
    assert published["cn_new_10"] == "2022-12-07"
    assert service.get_pack("cn_shanghai_2022_04").levels() == ["sealed", "controlled",
                                                                "precaution"]
    assert "who_2021" in published and "cn_v8_local_3zones" in published


def test_extends_chains() -> None:
    assert service.get_pack("cn_new_10").lineage == ["cn_new_10", "cn_20_measures", "cn_v9"]
    assert service.get_pack("cn_20_measures").extends == "cn_v9"
    assert service.get_pack("cn_shanghai_2022_06").lineage[-1] == "cn_v8_local_3zones"


def test_children_inherit_what_they_do_not_restate() -> None:
    v9, twenty, new10 = (service.get_pack(i) for i in ("cn_v9", "cn_20_measures", "cn_new_10"))
    assert twenty.lookback is not None and v9.lookback is not None
    assert twenty.lookback.symptomatic == v9.lookback.symptomatic
    assert twenty.lookback.secondary is None and v9.lookback.secondary is not None
    assert twenty.roles["from_low_risk_area"].phases == v9.roles["from_low_risk_area"].phases
    assert new10.prohibitions is not None and twenty.prohibitions is not None
    assert new10.prohibitions.texts == v9.prohibitions.texts  # type: ignore[union-attr]
    assert new10.prohibitions.checkpoint_pass.nat_within_hours is None  # removed by null
    assert twenty.prohibitions.checkpoint_pass.nat_within_hours == 48
    assert twenty.levels() == ["high", "low"]  # medium: null
    assert service.get_pack("cn_shanghai_2022_06").levels() == ["high", "medium", "low"]


def test_identity_keys_are_never_inherited(tmp_path: Path) -> None:
    write(tmp_path, mini())
    child = {"id": "kid", "version": "2.0.0", "extends": "mini", "title": {"zh": "子", "en": "kid"},
             "document": "k", "issuer": "k", "published": "2022-02-01",
             "in_force": {"start": "2022-02-01"}}
    write(tmp_path, child)
    pack = service.get_pack("kid", tmp_path)
    assert (pack.version, pack.document, pack.summary) == ("2.0.0", "k", None)
    assert pack.roles == service.get_pack("mini", tmp_path).roles


def test_merge_rules() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"z": 1}}
    over = {"a": {"y": [3]}, "b": None, "c": {"w": 2}, "d": 4}
    assert merge(base, over) == {"a": {"x": 1, "y": [3]}, "c": {"z": 1, "w": 2}, "d": 4}
    assert base["a"] == {"x": 1, "y": [1, 2]}  # inputs untouched


def test_every_rule_names_sources_that_exist() -> None:
    for pack in service.packs():
        for key, source in pack.sources.items():
            assert source.url, (pack.id, key)
        for role in pack.roles.values():
            assert role.source and all(s in pack.sources for s in role.source)


def test_ambiguities_are_written_in_the_packs() -> None:
    v9 = service.get_pack("cn_v9")
    for key in ("day_numbering", "secondary_lookback", "high_medium_low_timing",
                "infections_counted", "outflow_test_days"):
        assert v9.ambiguities[key].choice and v9.ambiguities[key].reason
    refs = {a.ref for p in service.packs() for a in p.ambiguities.values()}
    assert "research §8.6" in refs and "research §8.19" in refs


def test_unknown_pack() -> None:
    with pytest.raises(NotFound, match=r"available: .*cn_v9"):
        service.get_pack("cn_v99")


def test_active_pack_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert service.active_pack().id == get_settings().active_policy_pack == "cn_v9"
    monkeypatch.setenv("FANGKONG_ACTIVE_POLICY_PACK", "cn_new_10")
    get_settings.cache_clear()
    try:
        assert service.active_pack().id == "cn_new_10"
        assert service.plan(None, "close_contact", service.get_pack("cn_v9").published).pack \
            == "cn_new_10"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_summary() -> None:
    s = service.summary(service.get_pack("cn_20_measures"))
    assert s.levels == ["high", "low"] and s.has_prohibitions and s.extends == "cn_v9"
    assert not service.summary(service.get_pack("who_2021")).has_prohibitions


def test_shipped_packs_are_loaded_once() -> None:
    assert loader.load_packs() is loader.load_packs()

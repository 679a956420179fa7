"""The personal link's page: three languages, no script, the form posts a report, errors
shown on the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.monitoring import service
from fangkong.person.models import Person
from tests.monitoring.conftest import managed_contact


@pytest.fixture
def page(session: Session, admin: Actor, people: list[Person], case_id: int) -> str:
    today = service.local_today()
    cid = managed_contact(session, admin, people[3], case_id, last=today - timedelta(days=9))
    (period,) = [p for p in service.list_periods(session, actor=admin) if p.contact_id == cid]
    return service.issue_link(session, actor=admin, period_id=period.id).path + "/page"


@pytest.mark.parametrize(("lang", "title", "symptom"), [
    ("zh-Hans", "每日健康报告", "嗅觉味觉减退"), ("zh-Hant", "每日健康報告", "嗅覺味覺減退"),
    ("en", "Daily health report", "loss of smell or taste")])
def test_page_in_three_languages_without_script(client: TestClient, page: str, lang: str,
                                                title: str, symptom: str) -> None:
    resp = client.get(page, params={"lang": lang})
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert f'<html lang="{lang}">' in html and title in html and symptom in html
    assert "<script" not in html
    nonce = re.search(r'<style nonce="([^"]+)">', html)
    assert nonce and f"'nonce-{nonce.group(1)}'" in resp.headers["content-security-policy"]
    assert 'name="viewport"' in html and "font-size: 20px" in html
    # today and yesterday may be reported, nothing else
    today = service.local_today()
    assert re.findall(r'name="day" value="([^"]+)"', html) == [
        today.isoformat(), (today - timedelta(days=1)).isoformat()]


def test_page_form_reports_and_shows_errors(client: TestClient, page: str) -> None:
    today = service.local_today().isoformat()
    bad = client.post(page, params={"lang": "zh-Hans"},
                      data={"day": today, "temperature": "50", "tested": "no"})
    assert bad.status_code == 422 and "体温须在 34.0 至 43.0 °C 之间" in bad.text
    sent = client.post(page, params={"lang": "en"}, follow_redirects=False, data={
        "day": today, "temperature": "37.9", "symptoms": ["cough", "fatigue"], "tested": "yes"})
    assert sent.status_code == 303, sent.text
    shown = client.get(sent.headers["location"])
    assert f"Your report of {today} has been received" in shown.text
    assert re.findall(r'name="day" value="([^"]+)"', shown.text) == [
        (service.local_today() - timedelta(days=1)).isoformat()]
    again = client.post(page, data={"day": today, "temperature": "36.5"})
    assert again.status_code == 409 and "cannot be changed" in again.text
    gone = client.get(page.replace("/link/", "/link/x"))
    assert gone.status_code == 401 and "not valid or has expired" in gone.text
    assert 'name="day"' not in gone.text

"""Alert notifications through a plugin hook.

A notifier is any object with a ``name`` and ``send(message)``. Built in: ``log`` (the Python
logger ``fangkong.alerts``) and ``email`` (SMTP). Which ones run is the setting
``alert_notifiers`` (``FANGKONG_ALERT_NOTIFIERS``, default ``log``); the e-mail notifier takes
the ``smtp_*`` and ``alert_email_*`` settings (see :mod:`fangkong.core.config`, which checks them at
start-up). Other notifiers (SMS, WeCom…) are entry points in the group ``fangkong.notifiers`` (a
factory taking no arguments), or registered in code with :func:`register` and named to
:func:`configured`. A failing notifier is logged and never undoes the alert.

Alerts are announced only once they are stored: :func:`after_commit` holds the messages on the
session and sends them when its transaction commits. A rollback drops them, and so does the
rollback of a savepoint they were queued in; a message is sent once, by the commit that made
its alert durable.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from importlib.metadata import entry_points
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from fangkong.core.config import Settings, get_settings

log = logging.getLogger("fangkong.alerts")


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int
    rule_name: str
    method: str
    division_code: str
    period_start: str
    observed: float
    upperbound: float

    @property
    def subject(self) -> str:
        return (f"[Fangkong 预警] {self.rule_name}: {self.division_code} {self.period_start}")

    @property
    def body(self) -> str:
        return (f"监测预警 / Surveillance alert #{self.alert_id}\n"
                f"规则 rule: {self.rule_name} ({self.method})\n"
                f"地区 division: {self.division_code}\n"
                f"时间 period: {self.period_start}\n"
                f"观察值 observed: {self.observed:g}\n"
                f"预警阈值 upper bound: {self.upperbound:.4g}\n")


class Notifier(Protocol):
    name: str

    def send(self, message: AlertMessage) -> None: ...


class LogNotifier:
    name = "log"

    def send(self, message: AlertMessage) -> None:
        log.warning("alert %s: %s observed %g > bound %.4g (%s, %s)", message.alert_id,
                    message.division_code, message.observed, message.upperbound,
                    message.rule_name, message.period_start)


@dataclass
class EmailNotifier:
    host: str
    port: int
    sender: str
    recipients: list[str]
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    name: str = "email"

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> EmailNotifier:
        s = settings or get_settings()
        if not s.smtp_host or not s.alert_email_to:
            raise ValueError("the e-mail notifier needs FANGKONG_SMTP_HOST and "
                             "FANGKONG_ALERT_EMAIL_TO")
        return cls(host=s.smtp_host, port=s.smtp_port, sender=s.alert_email_from,
                   recipients=list(s.alert_email_to), starttls=s.smtp_starttls,
                   username=s.smtp_user, password=s.smtp_password)

    def send(self, message: AlertMessage) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(mail)


_REGISTRY: dict[str, Callable[[], Notifier]] = {"log": LogNotifier,
                                                 "email": EmailNotifier.from_settings}


def register(name: str, factory: Callable[[], Notifier]) -> None:
    _REGISTRY[name] = factory


def configured(names: Sequence[str] | None = None) -> list[Notifier]:
    """The notifiers named (default: the ``alert_notifiers`` setting)."""
    if names is None:
        names = get_settings().alert_notifiers
    out: list[Notifier] = []
    for name in names:
        factory = _REGISTRY.get(name)
        if factory is None:
            eps = [ep for ep in entry_points(group="fangkong.notifiers") if ep.name == name]
            if not eps:
                log.error("no notifier named %r (check FANGKONG_ALERT_NOTIFIERS)", name)
                continue
            factory = eps[0].load()
        try:
            out.append(factory())
        except Exception as exc:  # a misconfigured notifier must not stop the others
            log.error("notifier %r is not usable: %s", name, exc)
    return out


def dispatch(messages: list[AlertMessage], notifiers: list[Notifier] | None = None
             ) -> dict[str, int]:
    """Send every message through every notifier; returns messages sent per notifier."""
    sent: dict[str, int] = {}
    for notifier in configured() if notifiers is None else notifiers:
        sent[notifier.name] = 0
        for m in messages:
            try:
                notifier.send(m)
                sent[notifier.name] += 1
            except Exception as exc:  # logged; the alert itself stands
                log.error("notifier %s failed for alert %s: %s", notifier.name, m.alert_id,
                          exc)
    return sent


_PENDING = "fangkong.alert_notifications"


@dataclass
class _Pending:
    transaction: SessionTransaction  # the innermost transaction the messages were queued in
    messages: list[AlertMessage]
    notifiers: list[Notifier] | None


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its messages wait for the outer commit
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    for p in pending:
        dispatch(p.messages, p.notifiers)


def _on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] = session.info.get(_PENDING, [])
    kept = [p for p in pending if not _inside(p.transaction, previous_transaction)]
    if kept:
        session.info[_PENDING] = kept
    else:
        session.info.pop(_PENDING, None)


def _on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        session.info.pop(_PENDING, None)  # (a commit has sent and removed them already)


def _listen(session: Session) -> None:
    if not event.contains(session, "after_commit", _on_commit):
        event.listen(session, "after_commit", _on_commit)
        event.listen(session, "after_soft_rollback", _on_rollback)
        event.listen(session, "after_transaction_end", _on_end)


def after_commit(session: Session, messages: list[AlertMessage],
                 notifiers: list[Notifier] | None = None) -> None:
    """Send ``messages`` (through ``notifiers``, or the configured ones) once the session's
    transaction commits; never if it, or the savepoint they were queued in, rolls back."""
    if not messages:
        return
    transaction: Any = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # no transaction: nothing to wait for
        dispatch(messages, notifiers)
        return
    _listen(session)
    session.info.setdefault(_PENDING, []).append(_Pending(transaction, messages, notifiers))

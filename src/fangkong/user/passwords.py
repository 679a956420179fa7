"""The password policy: long enough, not a common password, not the username, not one
character repeated.

Common passwords are the 30,000 of the ``passwords`` frequency list shipped in the zxcvbn
package (MIT licence; the list is drawn from Mark Burnett's 10 million leaked passwords, Xato
2015), compared without case.
"""

from __future__ import annotations

from functools import lru_cache

from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import Text
from fangkong.user.messages import U

RULES = ("too_short", "one_character", "contains_username", "common")
"""The rules, by the name an error gives in ``rule`` (the pages translate them by it)."""


class PasswordRejected(Invalid):
    """A password that breaks a rule of the policy; ``rule`` names which (one of RULES)."""

    def __init__(self, rule: str, message: Text) -> None:
        super().__init__(U("refused", why=message),
                         problems=[Problem(message, field="password")])
        self.rule = rule


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(w.lower() for w in FREQUENCY_LISTS["passwords"])


def check(password: str, *, username: str, min_length: int) -> None:
    """Raise :class:`PasswordRejected` naming the first rule ``password`` breaks."""
    if len(password) < min_length:
        raise PasswordRejected(
            "too_short", U("too_short", length=len(password), min=min_length))
    if len(set(password)) == 1:
        raise PasswordRejected("one_character", U("one_character"))
    if username and username.lower() in password.lower():
        raise PasswordRejected("contains_username", U("contains_username"))
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise PasswordRejected("common", U("common"))

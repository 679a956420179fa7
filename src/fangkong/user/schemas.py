from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fangkong.core.auth import Role
from fangkong.core.division import Jurisdiction


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = ""
    role: Role
    jurisdictions: list[Jurisdiction] = Field(min_length=1)
    password: str = Field(max_length=200, description="Checked against the password policy.")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    jurisdictions: list[str]

    @field_validator("jurisdictions", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        return [getattr(g, "division_code", g) for g in value] if isinstance(value, list) else value


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class PasswordChange(BaseModel):
    """A signed-in user's own password change: the current password and the new one."""

    old_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class PasswordSet(BaseModel):
    """An administrator sets a user's password."""

    password: str = Field(max_length=200)

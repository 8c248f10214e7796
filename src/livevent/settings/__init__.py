"""Settings: a TOML file overridden by `LIVEVENT_*` environment variables.

The file is the first of: the path given (`--config`), `$LIVEVENT_CONFIG`,
`./livevent.toml`, then `livevent.toml` in the user config directory. Top-level
settings have flat variables (`LIVEVENT_DATABASE_URL`); nested sections use a
double underscore (`LIVEVENT_SECTION__FIELD`).
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from livevent.errors import InvalidInput, UnknownSetting
from livevent.model.validation import describe
from livevent.settings.groups import (
    APP_NAME,
    EXAMPLE_SECRET,
    AuthSettings,
    BusSettings,
    DeploymentSettings,
    LimitSettings,
    LogLevel,
    SpeechSettings,
    StoreSettings,
    data_dir,
    default_database_url,
)

__all__ = [
    "APP_NAME",
    "EXAMPLE_SECRET",
    "LOOPBACK",
    "LogLevel",
    "Settings",
    "check_exposure",
    "data_dir",
    "default_database_url",
    "find_config_file",
    "load_settings",
]

CONFIG_FILE_NAME = "livevent.toml"

_config_file: ContextVar[Path | None] = ContextVar("livevent_config_file", default=None)


class Settings(
    StoreSettings,
    BusSettings,
    AuthSettings,
    SpeechSettings,
    LimitSettings,
    DeploymentSettings,
    BaseSettings,
):
    """Everything livevent can be told, by job (groups.py); see config.example.toml for each
    with a comment, and docs/settings.md for the reference made from this code."""

    model_config = SettingsConfigDict(
        env_prefix="LIVEVENT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The TOML file to read, or None when there is none anywhere."""
    if explicit is not None:
        if not explicit.is_file():
            raise InvalidInput(f"config file {explicit} does not exist")
        return explicit
    from_env = os.environ.get("LIVEVENT_CONFIG")
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise InvalidInput(f"LIVEVENT_CONFIG names {path}, which does not exist")
        return path
    for candidate in (
        Path.cwd() / CONFIG_FILE_NAME,
        Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME,
    ):
        if candidate.is_file():
            return candidate
    return None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the config file, the environment and `overrides`, in rising priority."""
    path = find_config_file(config_file)
    if path is not None:
        _check_toml(path)
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        source = f" (from {path} or LIVEVENT_* variables)" if path else ""
        raise InvalidInput(f"bad settings{source}: {describe(error)}") from None
    finally:
        _config_file.reset(token)


def _check_toml(path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"cannot read config file {path}: {error}") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise UnknownSetting(f"config file {path} has unknown settings: {', '.join(unknown)}")


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve beyond this machine while tokens are signed with the example secret."""
    if (
        host not in LOOPBACK
        and not host.startswith("127.")
        and (settings.auth_secret.get_secret_value() == EXAMPLE_SECRET)
    ):
        raise InvalidInput(
            f"refusing to listen on {host} with the example auth_secret:"
            " set auth_secret (or LIVEVENT_AUTH_SECRET) to a secret of your own"
        )

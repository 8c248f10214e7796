"""Settings: defaults, a TOML file, and environment variables over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from livevent.errors import InvalidInput, UnknownSetting
from livevent.settings import Settings, load_settings
from livevent.settings.reference import GROUPS, reference


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LIVEVENT_CONFIG", "LIVEVENT_DATABASE_URL", "LIVEVENT_PORT", "LIVEVENT_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'livevent' / 'livevent.db'}"
    assert settings.redis_url == "memory://"


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('port = 9000\nredis_url = "redis://127.0.0.1:6379/0"\n')
    assert load_settings(config).port == 9000
    monkeypatch.setenv("LIVEVENT_PORT", "9100")
    settings = load_settings(config)
    assert settings.port == 9100 and settings.redis_url == "redis://127.0.0.1:6379/0"


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "config" / "livevent" / "livevent.toml"
    user.parent.mkdir(parents=True)
    user.write_text("port = 1111\n")
    assert load_settings().port == 1111
    (tmp_path / "livevent.toml").write_text("port = 2222\n")
    assert load_settings().port == 2222
    named = tmp_path / "named.toml"
    named.write_text("port = 3333\n")
    monkeypatch.setenv("LIVEVENT_CONFIG", str(named))
    assert load_settings().port == 3333


def test_bad_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(InvalidInput, match="cannot read config file"):
        load_settings(broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 80\n")
    with pytest.raises(UnknownSetting, match="prot"):
        load_settings(unknown)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('port = "eighty"\n')
    with pytest.raises(InvalidInput, match="port"):
        load_settings(wrong)


def test_example_config_is_valid() -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    assert isinstance(load_settings(example), Settings)
    # Every setting is in the example, so users can find it.
    text = example.read_text()
    for name in Settings.model_fields:
        assert f"{name} =" in text or f"[{name}]" in text, name


def test_the_example_secret_stays_on_loopback() -> None:
    from livevent.settings import check_exposure

    example = load_settings()
    check_exposure(example, "127.0.0.1")
    with pytest.raises(InvalidInput, match="example auth_secret"):
        check_exposure(example, "0.0.0.0")
    check_exposure(load_settings(auth_secret="a-secret-of-our-own-0123456789abcdef"), "0.0.0.0")


def test_the_settings_reference_is_made_from_the_code() -> None:
    """docs/settings.md and the code cannot disagree: run
    `python -m livevent.settings.reference > docs/settings.md` after changing a setting."""
    page = Path(__file__).parents[1] / "docs" / "settings.md"
    assert page.read_text() == reference()


def test_every_setting_belongs_to_exactly_one_group_and_keeps_its_flat_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    grouped = [name for _, group in GROUPS for name in group.model_fields]
    assert sorted(grouped) == sorted(Settings.model_fields)
    assert len(grouped) == len(set(grouped))
    # A grouped setting is still a flat variable and a top-level TOML key.
    monkeypatch.setenv("LIVEVENT_STAFF_FEEDS_PER_TOKEN", "7")
    config = tmp_path / "livevent.toml"
    config.write_text("trusted_hops = 2\nrecord = false\n")
    settings = load_settings(config)
    assert (settings.staff_feeds_per_token, settings.trusted_hops, settings.record) == (7, 2, False)

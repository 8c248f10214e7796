"""`livevent user ...` on both stores: create, list, grant, revoke, password, disable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livevent.auth import verifier_for
from livevent.auth.accounts import Accounts
from livevent.auth.invitations import Invitations
from livevent.bus import MemoryBus
from livevent.cli import app
from livevent.errors import Unauthorized
from livevent.settings import Settings
from livevent.store import open_store

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def cli(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", store_url)
    monkeypatch.delenv("LIVEVENT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), input=stdin)
        return result.exit_code, result.stdout, result.stderr

    return invoke


async def _can_log_in(store_url: str, email: str, password: str) -> bool:
    settings = Settings(database_url=store_url)
    store = await open_store(store_url)
    try:
        accounts = Accounts.from_settings(
            settings, users=store.users, bus=MemoryBus(), verifier=verifier_for(settings)
        )
        await accounts.login(email, password)
    except Unauthorized:
        return False
    finally:
        await store.aclose()
    return True


def can_log_in(store_url: str, email: str, password: str) -> bool:
    return asyncio.run(_can_log_in(store_url, email, password))


def make_event(cli: Any) -> int:
    code, out, _ = cli(
        "event", "create", "--name", "Talk", "--starts-at", "2026-12-01T10:00Z",
        "--source", "en-US", "--channel", "es-ES:human", "--json",
    )  # fmt: skip
    assert code == 0
    return int(json.loads(out)["id"])


def test_create_grant_revoke_and_sign_in(cli: Any, store_url: str) -> None:
    event_id = make_event(cli)
    code, out, err = cli(
        "user", "create", "Ana@Example.org", "--name", "Ana", "--role", "speaker",
        "--password-stdin", "--json", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["email"] == "ana@example.org"
    assert can_log_in(store_url, "ana@example.org", PASSWORD)

    code, out, _ = cli(
        "user", "grant", "ana@example.org", str(event_id), "interpret", "--channel", "2"
    )
    assert code == 0 and f"interpret event {event_id} channel 2" in out
    code, out, _ = cli("user", "list", "--json")
    assert json.loads(out)[0]["grants"] == [{"event": event_id, "can": "interpret", "channel": 2}]
    code, _, _ = cli(
        "user", "revoke", "ana@example.org", str(event_id), "interpret", "--channel", "2"
    )
    assert code == 0
    code, out, _ = cli("user", "list", "--json")
    assert json.loads(out)[0]["grants"] == []


def test_password_disable_enable_delete(cli: Any, store_url: str) -> None:
    assert (
        cli("user", "create", "bo@example.org", "--name", "Bo", "--password-stdin", stdin=PASSWORD)[
            0
        ]
        == 0
    )
    assert (
        cli("user", "password", "bo@example.org", "--password-stdin", stdin="another long one\n")[0]
        == 0
    )
    assert not can_log_in(store_url, "bo@example.org", PASSWORD)
    assert can_log_in(store_url, "bo@example.org", "another long one")
    assert cli("user", "disable", "bo@example.org")[0] == 0
    assert not can_log_in(store_url, "bo@example.org", "another long one")
    assert cli("user", "enable", "bo@example.org")[0] == 0
    assert can_log_in(store_url, "bo@example.org", "another long one")
    assert cli("user", "delete", "bo@example.org")[0] == 0
    code, _, err = cli("user", "delete", "bo@example.org")
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "stdin", "code", "says"),
    [
        (["create", "not-an-email", "--name", "X", "--password-stdin"], PASSWORD, 1, "email"),
        (["create", "a@example.org", "--name", "X", "--password-stdin"], "short", 1, "at least"),
        (["create", "a@example.org", "--name", "X"], "", 1, "--password-stdin"),
        (["create", "m@example.org", "--name", "X", "--role", "manager", "--password-stdin"],
         PASSWORD, 1, "customer"),
        (["create", "m@example.org", "--name", "X", "--customer", "Nope", "--password-stdin"],
         PASSWORD, 2, "Nope"),
        (["grant", "nobody@example.org", "1", "speak"], None, 2, "nobody@example.org"),
        (["grant", "nobody@example.org", "1", "speak", "--channel", "2"], None, 1, "no channel"),
        (["grant", "nobody@example.org", "1", "interpret"], None, 1, "names its channel"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(
    cli: Any, args: list[str], stdin: str | None, code: int, says: str
) -> None:
    got, _, err = cli("user", *args, stdin=stdin)
    assert got == code, err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    assert PASSWORD not in err


def test_a_grant_on_a_missing_event_changes_nothing(cli: Any) -> None:
    assert (
        cli("user", "create", "c@example.org", "--name", "C", "--password-stdin", stdin=PASSWORD)[0]
        == 0
    )
    code, _, err = cli("user", "grant", "c@example.org", "424242", "listen")
    assert code == 2 and "424242" in err
    assert json.loads(cli("user", "list", "--json")[1])[0]["grants"] == []


async def _sign_in_with(store_url: str, code: str) -> str:
    settings = Settings(database_url=store_url)
    store = await open_store(store_url)
    try:
        accounts = Accounts.from_settings(
            settings, users=store.users, bus=MemoryBus(), verifier=verifier_for(settings)
        )
        signed = await Invitations(accounts, store, ttl=60).sign_in(code)
        return signed.next
    finally:
        await store.aclose()


def test_invite_prints_a_link_that_signs_in_once(cli: Any, store_url: str) -> None:
    event_id = make_event(cli)
    code, out, err = cli(
        "user", "invite", str(event_id), "--channel", "2", "--email", "ana@example.org",
        "--name", "Ana",
    )  # fmt: skip
    assert code == 0, err
    link = out.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8080/signin#code="), out
    assert "a guess" in err and "--url" in err  # no public_url: the organizer is told
    secret = link.partition("#code=")[2]
    assert asyncio.run(_sign_in_with(store_url, secret)) == f"/speak/{event_id}/2"
    with pytest.raises(Unauthorized):
        asyncio.run(_sign_in_with(store_url, secret))
    code, out, _ = cli("user", "list", "--json")
    (user,) = json.loads(out)
    assert user["grants"] == [{"event": event_id, "can": "interpret", "channel": 2}]
    # A machine channel or a missing name: one line, nothing created.
    code, _, err = cli(
        "user", "invite", str(event_id), "--channel", "2", "--email", "b@example.org"
    )
    assert code != 0 and err.count("\n") == 1 and "name" in err


def test_an_invitation_link_names_the_public_address(cli: Any) -> None:
    event_id = make_event(cli)
    code, out, err = cli(
        "user", "invite", str(event_id), "--channel", "2", "--email", "joan@example.org",
        "--name", "Joan", "--url", "https://live.example.org/",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("https://live.example.org/signin#code=")
    assert "guess" not in err

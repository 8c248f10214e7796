"""The `livevent` command through typer's runner, on both stores, and once as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livevent.cli import app
from livevent.cli._utilities import exit_code_for
from livevent.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LiveventError,
    NotFound,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)

runner = CliRunner()


@pytest.fixture
def cli(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run `livevent ARGS` against the test's store; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", store_url)
    monkeypatch.delenv("LIVEVENT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./livevent.toml

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def create_args(*extra: str) -> list[str]:
    return [
        "event",
        "create",
        "--name",
        "Board meeting",
        "--starts-at",
        "2026-12-01T10:00+01:00",
        "--source",
        "ca-ES",
        "--channel",
        "en-US:machine",
        "--channel",
        "es-ES:human",
        "--json",
        *extra,
    ]


def test_create_list_schedule_ready(cli: Any) -> None:
    code, out, _ = cli(*create_args())
    assert code == 0
    event = json.loads(out)
    assert event["status"] == "DRAFT" and event["id"] > 0
    assert [(c["language"], c["kind"]) for c in event["channels"]] == [
        ("ca-ES", "floor"),
        ("en-US", "machine"),
        ("es-ES", "human"),
    ]

    code, out, _ = cli("event", "list", "--json")
    assert code == 0
    assert [e["id"] for e in json.loads(out)["items"]] == [event["id"]]

    assert cli("event", "schedule", str(event["id"]))[0] == 0
    code, out, _ = cli("event", "ready", str(event["id"]), "--json")
    assert code == 0 and json.loads(out)["status"] == "READY"

    code, out, _ = cli("event", "list", "--status", "ready", "--json")
    assert json.loads(out)["total"] == 1
    code, out, _ = cli("event", "list", "--status", "draft", "--json")
    assert json.loads(out)["total"] == 0


@pytest.mark.parametrize("final", ["cancel", "end"])
def test_illegal_transition_exits_2_and_changes_nothing(cli: Any, final: str) -> None:
    event_id = str(json.loads(cli(*create_args())[1])["id"])
    cli("event", "schedule", event_id)
    if final == "end":
        # A LIVE event is the only kind that can end; the runtime starts it.
        code, _, err = cli("event", "end", event_id)
        assert code == 2 and "SCHEDULED" in err
        cli("event", "cancel", event_id, "--reason", "no show")
    else:
        cli("event", "cancel", event_id, "--reason", "no show")
    before = cli("event", "show", event_id, "--json")[1]

    code, out, err = cli("event", "schedule", event_id)
    assert code == 2
    assert out == ""
    assert err.strip() == f"error: event {event_id} cannot go from CANCELLED to SCHEDULED"
    assert cli("event", "show", event_id, "--json")[1] == before


def with_option(args: list[str], flag: str, value: str | None) -> list[str]:
    """`args` with `flag` set to `value` (replaced if present, appended if not)."""
    args = list(args)
    if value is None:
        return [*args, flag]
    if flag in args:
        args[args.index(flag) + 1] = value
        return args
    return [*args, flag, value]


@pytest.mark.parametrize(
    ("flag", "value", "code", "message"),
    [
        ("--starts-at", "tomorrow", 1, "starts_at"),
        ("--source", "klingon", 1, "unknown language tag"),
        ("--channel", "es-ES:robot", 1, "kind"),
        ("--ends-at", "2026-12-01T09:00+01:00", 1, "end after it starts"),
        ("--tz", "Mars/Olympus", 1, "unknown time zone"),
        ("--bogus", None, 1, "No such option"),
        ("--customer", "nobody", 2, "customer 'nobody' does not exist"),
    ],
)
def test_bad_input_is_one_line(
    cli: Any, flag: str, value: str | None, code: int, message: str
) -> None:
    exit_code, out, err = cli(*with_option(create_args(), flag, value))
    assert exit_code == code
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err
    assert json.loads(cli("event", "list", "--json")[1])["total"] == 0


def test_missing_event_exits_2(cli: Any) -> None:
    code, _, err = cli("event", "show", "999")
    assert code == 2 and err == "error: event 999 does not exist\n"


def test_update_channels_and_version(cli: Any) -> None:
    event = json.loads(cli(*create_args("--id", "123457"))[1])
    assert event["id"] == 123457
    code, out, _ = cli(
        "event",
        "update",
        "123457",
        "--add-channel",
        "fr-FR",
        "--remove-channel",
        "es-ES",
        "--name",
        "Renamed",
        "--json",
    )
    assert code == 0
    updated = json.loads(out)
    assert updated["name"] == "Renamed" and updated["version"] == 2
    assert {c["language"]: c["number"] for c in updated["channels"]} == {
        "ca-ES": 1,
        "en-US": 2,
        "fr-FR": 3,
    }
    code, _, err = cli("event", "update", "123457", "--name", "Stale", "--version", "1")
    assert code == 2 and "version 2, not 1" in err
    code, _, err = cli("event", "update", "123457", "--remove-channel", "ca-ES")
    assert code == 1 and "floor" in err
    code, _, err = cli("event", "update", "123457")
    assert code == 1 and "nothing to change" in err


def test_delete_and_history(cli: Any) -> None:
    draft = str(json.loads(cli(*create_args())[1])["id"])
    kept = str(json.loads(cli(*create_args())[1])["id"])
    cli("event", "schedule", kept, "--reason", "announced")
    assert cli("event", "delete", draft)[0] == 0
    assert cli("event", "show", draft)[0] == 2
    code, _, err = cli("event", "delete", kept)
    assert code == 2 and "only DRAFT" in err
    history = json.loads(cli("event", "history", kept, "--json")[1])
    assert [h["to_status"] for h in history] == ["DRAFT", "SCHEDULED"]
    assert history[1]["reason"] == "announced" and history[1]["actor"].startswith("cli:")


def test_customers(cli: Any) -> None:
    code, out, _ = cli("customer", "create", "Acme", "--max-live-events", "2", "--json")
    assert code == 0 and json.loads(out)["max_live_events"] == 2
    assert cli("customer", "create", "Acme")[0] == 2
    code, out, _ = cli(*create_args("--customer", "Acme"))
    assert (
        json.loads(out)["customer_id"] == json.loads(cli("customer", "list", "--json")[1])[0]["id"]
    )


def test_human_tables(cli: Any) -> None:
    event_id = str(json.loads(cli(*create_args())[1])["id"])
    code, out, _ = cli("event", "list")
    assert code == 0 and event_id in out and "Board" in out
    code, out, _ = cli("event", "show", event_id)
    assert "Catalan" in out and "es-ES" in out


def test_db_migrate_is_idempotent(cli: Any) -> None:
    assert cli("db", "migrate")[0] == 0
    code, out, _ = cli("db", "migrate", "--json")
    assert code == 0 and json.loads(out)["applied"] == []
    code, out, _ = cli("db", "status", "--json")
    assert json.loads(out)["pending"] == []


def test_bad_database_url(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", "mysql://localhost/x")
    code, _, err = cli("event", "list")
    assert code == 1 and "unsupported database URL 'mysql'" in err


def test_installed_entry_point(tmp_path: Path) -> None:
    """The console script that pip installed, as a user runs it."""
    executable = shutil.which("livevent", path=str(Path(sys.executable).parent))
    assert executable is not None, "the livevent console script is not installed"
    env = {
        **os.environ,
        "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "NO_COLOR": "1",
    }
    env.pop("LIVEVENT_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    created = run(*create_args())
    assert created.returncode == 0, created.stderr
    event_id = str(json.loads(created.stdout)["id"])
    assert run("event", "schedule", event_id).returncode == 0
    illegal = run("event", "schedule", event_id)
    assert illegal.returncode == 2
    assert illegal.stderr == f"error: event {event_id} cannot go from SCHEDULED to SCHEDULED\n"
    assert run("--version").stdout.startswith("livevent ")


# The demo on PostgreSQL is the same run on the other store (the contract suite covers
# the store): with the slow tests only.
@pytest.mark.parametrize(
    "store_url",
    ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])],
    indirect=True,
)
def test_demo_runs_a_live_event_end_to_end(cli: Any) -> None:
    code, shown, err = cli("demo")
    assert code == 0, err
    assert "es-ES" in shown and "ca-ES" in shown
    events = json.loads(cli("event", "list", "--json")[1])["items"]
    assert [(e["status"], e["source_language"]) for e in events] == [("ENDED", "en-US")]
    event_id = str(events[0]["id"])
    code, out, _ = cli("transcript", "export", event_id, "--format", "json")
    segments = json.loads(out)
    # Five sentences with short pauses: Whisper may join two into one with a comma.
    assert 3 <= len(segments) <= 5
    assert all(set(s["translations"]) == {"es-ES", "ca-ES"} for s in segments)
    assert segments[0]["text"].lower().startswith("good morning")
    assert "coming" in segments[-1]["text"].lower()
    # The console's way in, printed at the end, works.
    found = re.search(r"Sign in as (\S+) with the password (\S+) ", shown)
    assert found is not None, shown
    assert "/manage" in shown
    assert _signs_in(found.group(1), found.group(2))


def _signs_in(email: str, password: str) -> bool:
    import asyncio

    from livevent.auth.accounts import Accounts
    from livevent.bus import MemoryBus
    from livevent.settings import Settings
    from livevent.store import open_store

    async def login() -> bool:
        store = await open_store(os.environ["LIVEVENT_DATABASE_URL"], migrate=True)
        try:
            accounts = Accounts.from_settings(Settings(), users=store.users, bus=MemoryBus())
            pair = await accounts.login(email, password)
            return accounts.verifier.verify(pair.access_token).role.value == "admin"
        finally:
            await store.aclose()

    return asyncio.run(login())


def test_transcript_formats_and_errors(cli: Any) -> None:
    from datetime import UTC, datetime

    from livevent.model import TranscriptSegment
    from livevent.store import open_store

    event = json.loads(cli(*create_args())[1])
    url = os.environ["LIVEVENT_DATABASE_URL"]

    async def add() -> None:
        store = await open_store(url, migrate=True)
        try:
            for n, (start, text, spanish) in enumerate(
                [(0.0, "Hello.", "Hola."), (61.5, "Goodbye.", "Adiós.")], start=1
            ):
                await store.add_transcript_segment(
                    TranscriptSegment(
                        event_id=event["id"], sequence=n, language="ca-ES", text=text,
                        translations={"es-ES": spanish}, start_seconds=start,
                        end_seconds=start + 1.25, spoken_at=datetime.now(UTC),
                    )
                )  # fmt: skip
        finally:
            await store.aclose()

    import asyncio

    asyncio.run(add())
    event_id = str(event["id"])
    code, out, _ = cli("transcript", "export", event_id, "--format", "srt", "--lang", "es_es")
    assert code == 0
    assert out == (
        "1\n00:00:00,000 --> 00:00:01,250\nHola.\n\n2\n00:01:01,500 --> 00:01:02,750\nAdiós.\n"
    )
    code, out, _ = cli("transcript", "export", event_id, "--format", "vtt")
    assert out.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello.\n")
    assert cli("transcript", "export", event_id, "--format", "txt")[1] == "Hello.\nGoodbye.\n"
    code, _, err = cli("transcript", "export", event_id, "--lang", "fr-FR")
    assert code == 1 and "has no fr-FR" in err
    code, _, err = cli("transcript", "export", event_id, "--format", "doc")
    assert code == 1 and "unknown transcript format" in err
    assert cli("transcript", "export", "999")[0] == 2


def test_token_create_signs_what_it_is_asked(cli: Any) -> None:
    from livevent.auth import Role, TokenVerifier
    from livevent.settings import load_settings

    code, out, err = cli(
        "token", "create", "--role", "speaker", "--event", "123457", "--channel", "2",
        "--ttl", "2h", "--sub", "ana",
    )  # fmt: skip
    assert code == 0, err
    settings = load_settings()
    claims = TokenVerifier(secret=settings.auth_secret.get_secret_value()).verify(out.strip())
    assert (claims.sub, claims.role, claims.events, claims.channel) == (
        "ana", Role.SPEAKER, [123457], 2,
    )  # fmt: skip
    assert 7190 <= claims.exp - claims.iat <= 7200
    code, out, _ = cli("token", "create", "--role", "admin", "--event", "*", "--json")
    assert json.loads(out)["claims"]["events"] == "*"
    for bad in (
        ["--role", "king"],
        ["--role", "speaker", "--event", "x"],
        ["--role", "admin", "--ttl", "soon"],
    ):
        code, _, err = cli("token", "create", *bad)
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("x"), 1),
        (NotFound("x"), 2),
        (Conflict("x"), 2),
        (Unavailable("x"), 3),
        (Unauthorized("x"), 4),
        (Forbidden("x"), 4),
        (TooManyAttempts("x", retry_after=5), 4),
        (LiveventError("x"), 70),
    ],
)
def test_exit_codes_follow_the_error_tree(error: LiveventError, code: int) -> None:
    """Refused credentials are the caller's to fix, not a bug (70)."""
    assert exit_code_for(error) == code


def test_a_channel_names_its_mode_and_voice(cli: Any) -> None:
    code, out, err = cli(
        "event", "create", "--name", "Voices", "--starts-at", "2026-12-01T10:00Z",
        "--source", "en-US",
        "--channel", "ca-ES:machine:voice=festival:upc_ca_ona_hts",
        "--channel", "es-ES:machine:consecutive:voice=pico",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    channels = {c["language"]: c for c in json.loads(out)["channels"]}
    assert channels["ca-ES"]["voice"] == "festival:upc_ca_ona_hts"
    assert (channels["es-ES"]["voice"], channels["es-ES"]["interpretation"]) == (
        "pico",
        "consecutive",
    )


def test_a_machine_channel_with_a_voice_hard_to_follow_is_flagged(cli: Any) -> None:
    args = [a for a in create_args("--channel", "pt-PT:machine") if a != "--json"]
    code, out, _ = cli(*args)
    assert code == 0
    flagged = " ".join(line for line in out.splitlines() if "Warning" in line or "follow" in line)
    assert "channel pt-PT" in flagged and "hard to" in flagged, out
    assert "channel en-US" not in flagged  # English voices are clear


def test_an_event_kept_off_the_broadcast_and_put_back_on(cli: Any) -> None:
    code, out, err = cli(*create_args("--no-broadcast"))
    assert code == 0, err
    created = json.loads(out)
    assert created["broadcast"] is False
    code, out, err = cli("event", "show", str(created["id"]))
    assert code == 0, err
    assert "Broadcast" in out and "off" in out
    code, out, err = cli("event", "update", str(created["id"]), "--broadcast", "--json")
    assert code == 0, err
    assert json.loads(out)["broadcast"] is True
    code, out, _ = cli("event", "history", str(created["id"]))
    assert "broadcast False -> True" in out, out


def test_event_show_names_relays_and_fallbacks(cli: Any) -> None:
    code, out, err = cli(
        "event", "create", "--name", "Relays", "--starts-at", "2026-12-01T10:00Z",
        "--source", "en-US", "--channel", "es-ES:human:fallback=machine",
        "--channel", "ca-ES:machine:source=es-ES", "--json",
    )  # fmt: skip
    assert code == 0, err
    event_id = json.loads(out)["id"]
    code, out, err = cli("event", "show", str(event_id))
    assert code == 0, err
    assert "relay of es-ES" in out and "machine fallback" in out, out

"""schemathesis against the served OpenAPI: no server error, every answer fits the schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from livevent.auth import service_token
from livevent.settings import Settings
from tests.support.servers import start_serve


@dataclass
class Served:
    url: str
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("st")
    env = {**os.environ, "LIVEVENT_DATABASE_URL": f"sqlite:///{folder / 'st.db'}"}
    env.pop("LIVEVENT_CONFIG", None)
    env["LIVEVENT_API_REQUESTS_PER_IP_PER_MINUTE"] = "0"  # thousands of cases, one address
    log = folder / "serve.log"
    process, port = start_serve(env, log=log)
    try:
        yield Served(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(timeout=15)


def schemathesis(
    served: Served, folder: Path, *options: str, examples: int = 25
) -> subprocess.CompletedProcess[str]:
    """The schemathesis CLI, as an operator would run it (its pytest plugin lags pytest 9)."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{served.url}/api/openapi.json",
            "--max-examples",
            str(examples),
            "--seed",
            "1",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,  # its cache goes there, not into the work tree
    )


# Failures schemathesis may report that are decisions, not defects:
# ST202: valid by the schema but refused by rules JSON Schema cannot say (NUL or
#   lone surrogates in text, dates outside 1900-9000, unknown language tags).
# ST203: a PATCH without If-Match is 428 Precondition Required (RFC 6585), by design.
ACCEPTED = {"ST202", "ST203"}


def failure_codes(output: str) -> set[str]:
    """The check codes in schemathesis' "Failures:" summary (e.g. ST202)."""
    summary = output.rsplit("Failures:", 1)[-1] if "Failures:" in output else ""
    return set(re.findall(r"\u274c (\w+) ", summary.split("Test cases:")[0]))


def test_api_conforms_to_its_schema_under_every_check(served: Served, tmp_path: Path) -> None:
    token = service_token(Settings(), ttl=3600)
    result = schemathesis(
        served, tmp_path, "--checks", "all", "--header", f"Authorization: Bearer {token}"
    )
    assert "Test cases:" in result.stdout, result.stdout[-3000:]
    assert failure_codes(result.stdout) <= ACCEPTED, result.stdout[-5000:]
    log = served.log.read_text()
    assert "Traceback" not in log
    assert token.split(".")[2] not in log


# A malformed token ("Bearer a.b.c") is refused the same way; tests/test_auth_tokens.py
# covers its spellings, so its schemathesis pass runs with the slow tests only. So does
# the bare byte: the first spelling takes the same path, and each pass costs ~20 s.
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer \u00ff\u00fe\u0080",
        pytest.param("\u00ff", marks=pytest.mark.slow),
        pytest.param("Bearer a.b.c", marks=pytest.mark.slow),
    ],
)
def test_hostile_authorization_bytes_get_problems_never_errors(
    served: Served, tmp_path: Path, authorization: str
) -> None:
    """Every check schemathesis has, with bytes in Authorization that no token is made of.

    The header is refused before any handler reads the body: a few examples per
    operation reach every route's refusal as well as many would.
    """
    result = schemathesis(
        served,
        tmp_path,
        "--checks",
        "all",
        "--header",
        f"Authorization: {authorization}",
        # The coverage phase's hundreds of boundary cases all meet the same refusal.
        "--phases",
        "examples,fuzzing",
        examples=5,
    )
    assert "Test cases:" in result.stdout, result.stdout[-3000:]
    assert failure_codes(result.stdout) <= ACCEPTED, result.stdout[-5000:]
    assert "Traceback" not in served.log.read_text()

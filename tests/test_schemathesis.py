"""schemathesis against the served OpenAPI: no server error, every answer fits the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from livevent.api.app import service_token
from livevent.settings import Settings
from tests.servers import start_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        **os.environ,
        "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('st') / 'st.db'}",
    }
    env.pop("LIVEVENT_CONFIG", None)
    env["LIVEVENT_API_REQUESTS_PER_IP_PER_MINUTE"] = "0"  # thousands of cases, one address
    process, port = start_serve(env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_api_conforms_to_its_schema(served: str, tmp_path: Path) -> None:
    """The schemathesis CLI, as an operator would run it (its pytest plugin lags pytest 9)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{served}/api/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,"
            "status_code_conformance,content_type_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {service_token(Settings(), ttl=3600)}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its cache goes there, not into the work tree
    )
    assert result.returncode == 0, result.stdout[-5000:]

"""The schema is the contract: schemathesis, a tool nobody here wrote, fuzzes
every operation of ``/api/schema/`` against a live server with a key holding
every scope, with all its checks (issue 16).

Bounded (a few examples per operation, deterministic generation) so the
suite stays fast; ``make`` nothing else: the CLI is in requirements-dev.txt.
The custom code formats of the schema get their strategies from
tests/schemathesis_hooks.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memo_registry.clients.models import SCOPES, ClientKey

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_nothing(live_server, list_2018, settings, tmp_path):
    settings.API_KEY_RATE = "100000/min"  # the fuzzer is one client asking fast
    _, key = ClientKey.objects.create_key(name="schemathesis", scopes=list(SCOPES))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--checks", "all",
        "--header", f"Authorization: Api-Key {key}",
        "--max-examples", "5",
        "--generation-deterministic",
        "--max-response-time", "10",
        "--no-color",
    ]  # fmt: skip
    env = os.environ | {
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(BASE_DIR),
    }
    run = subprocess.run(
        # In a folder of its own: the CLI leaves a .schemathesis cache behind.
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Each failing operation, what failed, and the answer it gave.
    findings = [
        line
        for line in run.stdout.splitlines()
        if line.startswith(("___", "- ST", "[", "    `", "    Invalid", "    Expected"))
    ]
    assert run.returncode == 0, "\n".join(findings)[-8000:] + run.stderr[-2000:]

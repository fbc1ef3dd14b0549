"""`telecare phone-sim` runs standalone, and the documented curl reproduces a call."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "telephony.md"


def _curl_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Reproducing a call with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def phone_sim(tmp_path):
    env = {**os.environ, "TELECARE_DATA_DIR": str(tmp_path), "TELECARE_TWILIO_ACCOUNT_SID": "",
           "TELECARE_TWILIO_AUTH_TOKEN": "", "TELECARE_TWILIO_API_URL": ""}
    process = subprocess.Popen(
        [sys.executable, "-c", "from telecare.cli import main; main()", "phone-sim",
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        first = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_reproduces_a_call_with_the_documented_curl(phone_sim):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    script = _curl_block().replace("http://127.0.0.1:8099", phone_sim)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert '"status": "completed"' in result.stdout
    assert '"heard": ["Buongiorno, se sta bene prema 1."]' in result.stdout
    assert '"pressed": ["1"]' in result.stdout

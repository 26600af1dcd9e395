"""Pure parts of the emulator's local fleet (tools/emulator/fleet.py)."""

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools/emulator"))

import fleet  # noqa: E402


@pytest.mark.parametrize("code, codes, matches", [
    (200, "200", True), (204, "200-299", True), (302, "200,302", True), (500, "200-299", False), (404, "200", False),
])
def test_success_codes_as_the_target_group_matcher_reads_them(code, codes, matches):
    assert fleet._code_matches(code, codes) is matches


def test_user_data_is_decoded_from_base64_or_taken_as_it_is():
    script = "#!/bin/sh\necho hi\n"
    assert fleet._user_data(base64.b64encode(script.encode()).decode()) == script
    assert fleet._user_data([base64.b64encode(script.encode()).decode()]) == script
    assert fleet._user_data(script) == script
    assert fleet._user_data(None) == ""


def test_sql_strings_are_escaped():
    assert fleet._sql_string("it's") == "'it\\'s'"
    assert fleet._sql_string("back\\slash") == "'back\\\\slash'"


def test_target_health_follows_the_thresholds():
    health = fleet.TargetHealth()
    assert health.state == "initial"
    health.record(True, "200", healthy_after=2, unhealthy_after=2)
    assert health.state == "initial"
    health.record(True, "200", healthy_after=2, unhealthy_after=2)
    assert health.state == "healthy" and health.reason is None
    health.record(False, "500", healthy_after=2, unhealthy_after=2)
    assert health.state == "healthy"
    health.record(False, "500", healthy_after=2, unhealthy_after=2)
    assert health.state == "unhealthy" and health.reason == "Target.ResponseCodeMismatch" and "500" in health.description
    health.record(False, "timeout", healthy_after=2, unhealthy_after=2)
    assert health.state == "unhealthy"
    health.record(True, "200", healthy_after=2, unhealthy_after=2)
    health.record(True, "200", healthy_after=2, unhealthy_after=2)
    assert health.state == "healthy"


def test_user_data_of_an_auto_scaling_launch_is_decoded():
    from moto.core.types import Base64EncodedString

    script = "#!/bin/sh\necho hi\n"
    assert fleet._user_data(Base64EncodedString.from_raw_string(script)) == script

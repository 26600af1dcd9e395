"""Three more releases deployed while the shop is under requests: no request fails, the
newest serves, only the newest three stay on disk."""

import time

import pytest
from conftest import run_playbook


@pytest.fixture(scope="module")
def switched(web):
    # Requests from inside the container, for the whole deploy, one result per line.
    web.run("rm -f /tmp/codes; (while [ ! -e /tmp/stop ]; do curl -s -o /dev/null -w '%{http_code}\\n' "
            "http://127.0.0.1/ >> /tmp/codes; done) > /dev/null 2>&1 &")
    try:
        result = run_playbook("release_switch.yml")
    finally:
        web.run("touch /tmp/stop")
        time.sleep(1)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    codes = web.file("/tmp/codes").content_string.split()
    web.run("rm -f /tmp/stop /tmp/codes")
    return codes


def test_no_request_failed_during_the_switches(switched):
    assert len(switched) > 20, "too few requests to tell"
    assert set(switched) == {"200"}, {code: switched.count(code) for code in set(switched)}


def test_newest_release_serves(web, switched):
    assert web.file("/srv/shop/current").linked_to == "/srv/shop/releases/4.0.0"
    assert "Release 4.0.0" in web.check_output("curl -s http://127.0.0.1/")


def test_only_the_newest_three_releases_stay(web, switched):
    assert sorted(web.check_output("ls /srv/shop/releases").split()) == ["2.0.0", "3.0.0", "4.0.0"]

"""The cleanup step run before imaging (last: it takes the host out of service)."""

import pytest
from conftest import run_playbook

PROBE_EXCLUDES = "--exclude-dir=proc --exclude-dir=sys --exclude-dir=dev"


@pytest.fixture(scope="module")
def cleaned(web):
    result = run_playbook("image_cleanup.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return web


def test_no_credential_left_anywhere_on_disk(cleaned, secret):
    # The database password and the key the user data carried, searched for in every file.
    for needle in (secret["password"], "emulator-key-that-must-not-reach-the-image"):
        found = cleaned.run(f"grep -r -l -F -s {PROBE_EXCLUDES} -e '{needle}' /")
        # grep's 1: it read everything and found nothing (0: found; 2: it could not search).
        assert (found.rc, found.stdout.strip()) == (1, ""), f"grep exit {found.rc}, found in: {found.stdout}"


@pytest.mark.parametrize("path", [
    "/etc/shop/app.json", "/etc/shop/stack.env", "/var/lib/cloud", "/root/.ansible", "/root/.bash_history",
    "/var/lib/systemd/random-seed", "/var/cache/shop", "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json",
])
def test_removed(cleaned, path):
    assert not cleaned.file(path).exists


def test_machine_id_empty_and_no_host_keys(cleaned):
    assert cleaned.file("/etc/machine-id").size == 0
    # Under /etc, not /etc/ssh: a host without SSH has no such folder, and no keys either.
    keys = cleaned.run("find /etc -maxdepth 2 -name 'ssh_host_*'")
    assert (keys.rc, keys.stdout.strip()) == (0, ""), f"find exit {keys.rc}: {keys.stdout}{keys.stderr}"


def test_no_log_or_temporary_file_left(cleaned):
    left = cleaned.run("find /var/log /tmp /var/tmp -type f")
    assert (left.rc, left.stdout.strip()) == (0, ""), f"find exit {left.rc}: {left.stdout}{left.stderr}"


def test_package_cache_empty(cleaned):
    debs = cleaned.run("find /var/cache/apt/archives -name '*.deb'")
    assert (debs.rc, debs.stdout.strip()) == (0, ""), f"find exit {debs.rc}: {debs.stdout}{debs.stderr}"


def test_image_still_boots_the_shop_config_unit(cleaned):
    # What the image keeps: the unit and its program, to render the settings at first boot.
    assert cleaned.service("shop-configure").is_enabled
    assert cleaned.file("/usr/local/sbin/shop-configure").mode == 0o755

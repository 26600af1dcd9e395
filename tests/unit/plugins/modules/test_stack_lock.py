"""The stack lock (plugins/modules/stack_lock.py): staleness, the refusal message, and the
take / refuse / take over / break / release cycle against SSM in moto."""

import datetime as dt
import json
import os
import types

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

moto = pytest.importorskip("moto")

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/stack_lock.py")


@pytest.fixture
def ssm(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        # As the module makes it (module_utils/calls.py): a client whose calls take aws_retry.
        yield RetryingBotoClientWrapper(boto3.client("ssm", region_name="us-east-1"), AWSRetry.jittered_backoff())


def manager(mod, ssm, now=NOW, check_mode=False):
    return mod.LockManager(types.SimpleNamespace(check_mode=check_mode), ssm, now=now)


def lock(mod, host, pid, since=NOW, ttl=3600):
    return mod.new_lock({"user": "ops", "host": host, "pid": pid}, ttl, since)


@pytest.mark.parametrize(("case", "expected"), [
    ("fresh, other host", None),
    ("fresh, this host, process alive", None),
    ("fresh, this host, process gone", "its process 999999 on here is gone"),
    ("expired", "it expired at 2026-12-01T14:30:00Z"),
])
def test_stale_reason(mod, case, expected):
    locks = {
        "fresh, other host": lock(mod, "elsewhere", 999999),
        "fresh, this host, process alive": lock(mod, "here", os.getpid()),
        "fresh, this host, process gone": lock(mod, "here", 999999),
        "expired": lock(mod, "elsewhere", 1, since=NOW - dt.timedelta(hours=1, minutes=30)),
    }
    alive = lambda pid: pid == os.getpid()  # noqa: E731
    assert mod.stale_reason(locks[case], NOW, "here", alive) == expected


def test_held_message_names_holder_since_and_the_way_out(mod):
    held = lock(mod, "runner-1", 4242, since=NOW - dt.timedelta(minutes=12))
    message = mod.held_message("/shop-production/lock", held, NOW)
    assert message.startswith("The stack is locked by ops@runner-1 (process 4242) since 2026-12-01T14:48:00Z (12 min ago)")
    assert f"lock ID {held['id']} in the SSM parameter /shop-production/lock" in message
    assert f"playbooks/unlock.yml -i inventories/<env> -e stack_lock_id={held['id']}" in message


def test_take_refuse_release(mod, ssm):
    first = manager(mod, ssm)
    _, taken, took_over = first.acquire("/s/lock", {"user": "a", "host": "elsewhere", "pid": 1}, 3600, None, None)
    assert took_over is None
    assert json.loads(ssm.get_parameter(Name="/s/lock")["Parameter"]["Value"]) == taken
    with pytest.raises(mod.Held, match="locked by a@elsewhere"):
        manager(mod, ssm).acquire("/s/lock", {"user": "b", "host": "elsewhere", "pid": 2}, 3600, None, None)
    assert manager(mod, ssm).release("/s/lock", "some-other-id") == (False, taken)  # not ours: untouched
    assert manager(mod, ssm).release("/s/lock", taken["id"]) == (True, {})
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name="/s/lock")


def test_expired_lock_is_taken_over_once(mod, ssm):
    old = lock(mod, "elsewhere", 1, since=NOW - dt.timedelta(hours=3))
    ssm.put_parameter(Name="/s/lock", Value=json.dumps(old), Type="String")
    _, taken, took_over = manager(mod, ssm).acquire("/s/lock", {"user": "b", "pid": 2}, 3600, None, None)
    assert took_over == {"id": old["id"], "reason": f"it expired at {old['expires']}"}
    assert json.loads(ssm.get_parameter(Name="/s/lock")["Parameter"]["Value"])["id"] == taken["id"]
    assert [p["Name"] for p in ssm.describe_parameters()["Parameters"]] == ["/s/lock"]  # no marker left


def test_a_takeover_under_way_refuses_a_second_one(mod, ssm):
    old = lock(mod, "elsewhere", 1, since=NOW - dt.timedelta(hours=3))
    ssm.put_parameter(Name="/s/lock", Value=json.dumps(old), Type="String")
    ssm.put_parameter(Name=f"/s/lock-takeover-{old['id']}", Value="{}", Type="String")  # another run's marker
    with pytest.raises(mod.Held, match="Another run is taking over the stale lock"):
        manager(mod, ssm).acquire("/s/lock", {"user": "b", "pid": 2}, 3600, None, None)
    assert json.loads(ssm.get_parameter(Name="/s/lock")["Parameter"]["Value"]) == old


def test_break_by_id_and_check_mode(mod, ssm):
    held = lock(mod, "elsewhere", 1)
    ssm.put_parameter(Name="/s/lock", Value=json.dumps(held), Type="String")
    with pytest.raises(mod.Held):
        manager(mod, ssm, check_mode=True).acquire("/s/lock", {}, 3600, None, None)  # a plan is refused too
    with pytest.raises(mod.Held):
        manager(mod, ssm).acquire("/s/lock", {}, 3600, None, "not-its-id")
    _, taken, took_over = manager(mod, ssm).acquire("/s/lock", {"user": "c"}, 3600, None, held["id"])
    assert took_over["reason"] == "it was broken on request (break_lock_id)"
    assert json.loads(ssm.get_parameter(Name="/s/lock")["Parameter"]["Value"])["user"] == "c"


def test_check_mode_writes_nothing(mod, ssm):
    manager(mod, ssm, check_mode=True).acquire("/s/lock", {}, 3600, None, None)
    assert ssm.describe_parameters()["Parameters"] == []

"""autoscaling_promotions against the emulator: create, idempotent re-run, change, removal, check
mode, a promotion under way, the forecast-only policy; bad windows refused before any AWS call."""

import datetime as dt
import time

import pytest
from test_modules import module

pytestmark = pytest.mark.integration

GROUP = "shop-promo-web"


def at(**delta) -> str:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(**delta)
    return moment.isoformat().replace("+00:00", "Z")


def make_group(emulator, name=GROUP):
    ec2 = emulator.client("ec2")
    ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData={"ImageId": "ami-12c6146b",
                                                                                   "InstanceType": "t3.small"})
    emulator.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=2, MaxSize=6, DesiredCapacity=2,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt"}, AvailabilityZones=["us-east-1a"])


def actions(emulator, name=GROUP) -> dict:
    found = emulator.client("autoscaling").describe_scheduled_actions(AutoScalingGroupName=name)
    return {a["ScheduledActionName"]: (a["StartTime"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                                       if "StartTime" in a else None, a["MinSize"], a["MaxSize"])
            for a in found["ScheduledUpdateGroupActions"]}


def args(promotions, **extra):
    return dict({"name": GROUP, "base_min_size": 2, "base_max_size": 6, "promotions": promotions}, **extra)


def test_promotions_reconcile(emulator):
    emulator.reset()
    make_group(emulator)
    # Someone else's action on the group: never touched.
    emulator.client("autoscaling").put_scheduled_update_group_action(
        AutoScalingGroupName=GROUP, ScheduledActionName="nightly-batch", Recurrence="0 2 * * *", MinSize=2, MaxSize=6)
    summer = {"name": "summer-sale", "start": at(days=30), "end": at(days=33), "min_size": 6, "max_size": 20,
              "scale_out_minutes": 45}
    black_friday = {"name": "black-friday", "start": at(days=60), "end": at(days=64), "min_size": 10,
                    "max_size": 40}

    predicted = module(emulator, "autoscaling_promotions", args([summer, black_friday]), "--check", "--diff")
    assert predicted["changed"] is True
    assert sorted(predicted["put"]) == sorted(["promotion-summer-sale-scale-out", "promotion-summer-sale-scale-back",
                                               "promotion-black-friday-scale-out", "promotion-black-friday-scale-back"])
    assert predicted["diff"]["before"] == {"scheduled_actions": {}}
    assert list(actions(emulator)) == ["nightly-batch"], "check mode wrote"

    created = module(emulator, "autoscaling_promotions", args([summer, black_friday]), "--diff")
    assert created["changed"] is True
    out_at = (dt.datetime.fromisoformat(summer["start"]) - dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    back_at = dt.datetime.fromisoformat(summer["end"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    bf_out = (dt.datetime.fromisoformat(black_friday["start"]) - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert actions(emulator) == {
        "nightly-batch": (None, 2, 6),
        "promotion-summer-sale-scale-out": (out_at, 6, 20),
        "promotion-summer-sale-scale-back": (back_at, 2, 6),
        "promotion-black-friday-scale-out": (bf_out, 10, 40),
        "promotion-black-friday-scale-back": (dt.datetime.fromisoformat(black_friday["end"]).strftime("%Y-%m-%dT%H:%M:%SZ"), 2, 6),
    }
    assert created["diff"]["after"]["scheduled_actions"]["promotion-summer-sale-scale-out"] == {
        "start_time": out_at, "min_size": 6, "max_size": 20}

    again = module(emulator, "autoscaling_promotions", args([summer, black_friday]))
    assert again["changed"] is False and again["put"] == [] and again["deleted"] == []
    assert module(emulator, "autoscaling_promotions", args([summer, black_friday]), "--check")["changed"] is False

    # A change: the summer sale's ceiling and its lead time.
    bigger = dict(summer, max_size=30, scale_out_minutes=90)
    changed = module(emulator, "autoscaling_promotions", args([bigger, black_friday]), "--diff")
    assert changed["changed"] is True and changed["put"] == ["promotion-summer-sale-scale-out"]
    assert changed["diff"]["before"]["scheduled_actions"]["promotion-summer-sale-scale-out"]["max_size"] == 20
    new_out = (dt.datetime.fromisoformat(summer["start"]) - dt.timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert actions(emulator)["promotion-summer-sale-scale-out"] == (new_out, 6, 30)

    # Removal: the summer sale is no longer declared; check mode first.
    checked = module(emulator, "autoscaling_promotions", args([black_friday]), "--check", "--diff")
    assert checked["changed"] is True and sorted(checked["deleted"]) == ["promotion-summer-sale-scale-back",
                                                                          "promotion-summer-sale-scale-out"]
    assert "promotion-summer-sale-scale-out" in actions(emulator), "check mode deleted"
    removed = module(emulator, "autoscaling_promotions", args([black_friday]))
    assert removed["changed"] is True
    assert sorted(actions(emulator)) == ["nightly-batch", "promotion-black-friday-scale-back",
                                         "promotion-black-friday-scale-out"]

    # state=absent removes the rest, and only ours.
    gone = module(emulator, "autoscaling_promotions", args([black_friday], state="absent"))
    assert gone["changed"] is True and list(actions(emulator)) == ["nightly-batch"]
    assert module(emulator, "autoscaling_promotions", args([], state="absent"))["changed"] is False


def test_promotion_under_way_is_left_alone(emulator):
    """Once the scale-out time passes, AWS runs the action and deletes it: a re-run must not
    re-create it (nor fail on a start time in the past)."""
    emulator.reset()
    make_group(emulator)
    # The scale-out runs 20 s after the module is called: room for an ad hoc run on a loaded machine.
    flash = {"name": "flash-sale", "start": at(seconds=80), "end": at(hours=2), "min_size": 4, "max_size": 8,
             "scale_out_minutes": 1}
    assert module(emulator, "autoscaling_promotions", args([flash]))["changed"] is True
    time.sleep(max(0.0, (dt.datetime.fromisoformat(flash["start"]) - dt.timedelta(minutes=1)
                        - dt.datetime.now(dt.UTC)).total_seconds()) + 1.5)
    group = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])
    assert (group["AutoScalingGroups"][0]["MinSize"], group["AutoScalingGroups"][0]["MaxSize"]) == (4, 8)
    assert list(actions(emulator)) == ["promotion-flash-sale-scale-back"], "the run action was not deleted"
    again = module(emulator, "autoscaling_promotions", args([flash]))
    assert again["changed"] is False, again
    assert again["under_way"] == ["flash-sale"]


def test_predictive_forecast_only(emulator):
    emulator.reset()
    make_group(emulator)
    on = args([], predictive_forecast_only=True, predictive_target_cpu=45)
    assert module(emulator, "autoscaling_promotions", on, "--check")["changed"] is True
    assert emulator.client("autoscaling").describe_policies(AutoScalingGroupName=GROUP)["ScalingPolicies"] == []
    applied = module(emulator, "autoscaling_promotions", on)
    assert applied["changed"] is True
    policy = emulator.client("autoscaling").describe_policies(AutoScalingGroupName=GROUP)["ScalingPolicies"][0]
    assert policy["PolicyName"] == f"{GROUP}-predictive" and policy["PolicyType"] == "PredictiveScaling"
    assert policy["PredictiveScalingConfiguration"]["Mode"] == "ForecastOnly"
    assert policy["PredictiveScalingConfiguration"]["MetricSpecifications"][0]["TargetValue"] == 45
    assert module(emulator, "autoscaling_promotions", on)["changed"] is False
    off = module(emulator, "autoscaling_promotions", args([]))
    assert off["changed"] is True
    assert emulator.client("autoscaling").describe_policies(AutoScalingGroupName=GROUP)["ScalingPolicies"] == []


@pytest.mark.parametrize("promotions, words", [
    ([{"name": "old", "start": at(days=-10), "end": at(days=-8), "min_size": 4, "max_size": 8}],
     ["promotions[0] (old) ended", "in the past"]),
    ([{"name": "a", "start": at(days=10), "end": at(days=12), "min_size": 4, "max_size": 8},
      {"name": "b", "start": at(days=11), "end": at(days=13), "min_size": 4, "max_size": 8}],
     ["promotions a", "and b", "overlap"]),
    ([{"name": "naive", "start": "2027-11-26T00:00:00", "end": "2027-11-27T00:00:00+01:00", "min_size": 4,
       "max_size": 8}], ["promotions[0] (naive).start needs a UTC offset"]),
    ([{"name": "upside-down", "start": at(days=12), "end": at(days=10), "min_size": 9, "max_size": 8}],
     ["end", "must be after its start", "min_size (9)", "max_size (8)"]),
    ([{"name": "lower", "start": at(days=10), "end": at(days=12), "min_size": 1, "max_size": 5}],
     ["min_size (1) must be at least the group's min size (2)", "max_size (5) must not be below"]),
])
def test_bad_windows_refused_before_any_call(emulator, promotions, words):
    emulator.reset()
    result = module(emulator, "autoscaling_promotions", args(promotions))
    assert result.get("failed"), result
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert emulator.stats()["calls"] == {}, "an AWS call was made before the promotions were checked"

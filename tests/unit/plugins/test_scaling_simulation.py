"""The scaling simulation (plugins/module_utils/scaling_simulation.py) on cases known by hand."""

import math

import pytest
from conftest import load

sim = load("plugins/module_utils/scaling_simulation.py")

FLAT_100 = (100.0,) * 24


def settings(**overrides):
    values = {"instance_rps": 100.0, "ready_minutes": 5, "min_size": 1, "max_size": 100, "target": 0.5,
              "hourly_price": 0.0416}
    values.update(overrides)
    return sim.Settings(**values)


def test_a_flat_load_is_served_by_exactly_the_instances_it_needs():
    load_rps = 1234.0
    profile = sim.Profile(hourly_rps=(10.0,) * 24, spikes=(sim.Spike(start=10, multiplier=load_rps / 10, hold=2000),))
    result = sim.simulate(profile, settings())
    # One instance to start; doubling while saturated (1, 2, 4, 8), then proportional: 16 -> 25.
    assert result.instances[600] == math.ceil(load_rps / (100 * 0.5)) == 25
    assert result.instances[-1] == 25


def test_the_fleet_sized_for_the_peak_is_ceil_of_peak_over_one_instance():
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=120, multiplier=10.5, hold=30),))
    fixed = sim.fixed_fleet(profile, settings())
    assert fixed.min_size == fixed.max_size == math.ceil(1050 / 100) == 11
    summary = sim.simulate(profile, fixed).summary()
    assert summary["requests_at_risk"] == 0 and summary["peak_instances"] == summary["min_instances"] == 11
    assert summary["ec2_cost"] == round(11 * 24 * 0.0416, 2)


def test_a_step_spike_costs_the_alarm_and_the_warm_up_at_the_old_capacity():
    # 100 rps on 2 instances (200 rps of capacity); at minute 60 demand steps to 400 rps.
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=60, multiplier=4, hold=240),))
    result = sim.simulate(profile, settings(ready_minutes=5))
    summary = result.summary()
    # The high alarm needs 3 minutes above target, the new instances 5 more to serve:
    # (400 - 200) rps short for 3 + 5 minutes.
    assert summary["minutes_short"] == 3 + 5
    assert summary["requests_at_risk"] == (400 - 200) * 60 * (3 + 5)
    assert result.instances[62] == 2 and result.instances[63] == 4 and result.serving[68] == 4


def test_the_warm_up_is_the_lever():
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=60, multiplier=4, hold=240),))
    slow = sim.simulate(profile, settings(ready_minutes=12)).summary()["requests_at_risk"]
    assert slow == (400 - 200) * 60 * (3 + 12)


def test_a_schedule_before_the_promotion_leaves_nothing_at_risk():
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=120, multiplier=10, ramp=10, hold=60),))
    alone = sim.simulate(profile, settings()).summary()
    scheduled = sim.simulate(profile, settings(schedule=(sim.ScheduledAction(100, 20, 100), sim.ScheduledAction(240, 1, 100))))
    assert alone["requests_at_risk"] > 0
    assert scheduled.summary()["requests_at_risk"] == 0
    assert scheduled.instances[99] == 2 and scheduled.instances[100] == 20


def test_scale_in_is_conservative():
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=30, multiplier=10, hold=60),))
    result = sim.simulate(profile, settings())
    peak = max(result.instances)
    after = result.instances[90:]
    assert peak == 20 and after[-1] == 2
    # Never more than 10 % (at least one) a step, and only after 15 minutes below 90 % of the target.
    for before, now in zip(after, after[1:], strict=False):
        assert 0 <= before - now <= max(1, math.floor(0.1 * before))
    assert after.index(peak - 2) >= 15


def test_the_maximum_caps_the_fleet():
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=30, multiplier=10, hold=120),))
    summary = sim.simulate(profile, settings(max_size=8)).summary()
    assert summary["peak_instances"] == 8 and summary["requests_at_risk"] > 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min_size": 5, "max_size": 2}, "min_size (5) must be 0 or more and not above max_size (2)"),
    ({"target": 1.5}, "target must be in"),
    ({"instance_rps": 0}, "instance_rps must be above 0"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings(**kwargs)


def test_a_baseline_day_needs_24_hours():
    with pytest.raises(ValueError, match="24 hourly values"):
        sim.Profile(hourly_rps=(1.0,) * 23)


def test_the_requests_policy_sizes_the_group_when_it_asks_more():
    # 100 rps = 6,000 requests a minute; 1,000 a target -> 6 instances, where CPU alone wants 2.
    profile = sim.Profile(hourly_rps=FLAT_100, days=1)
    both = sim.simulate(profile, settings(min_size=1, requests_per_target=1000.0))
    assert both.instances[0] == 6 and both.instances[-1] == 6
    cpu_only = sim.simulate(profile, settings(min_size=1))
    assert cpu_only.instances[-1] == 2
    assert sim.needed(100.0, settings(requests_per_target=1000.0)) == 6


def test_scale_in_waits_for_every_policy():
    # After a spike, CPU is low at once but the requests policy still wants 6: the group stays at 6.
    profile = sim.Profile(hourly_rps=FLAT_100, spikes=(sim.Spike(start=60, multiplier=3, hold=60),))
    result = sim.simulate(profile, settings(min_size=1, requests_per_target=1000.0))
    assert result.instances[-1] == 6


def test_the_schedule_strategy_opens_its_floor_before_the_spike():
    profile = sim.profile_from({"hourly_rps": FLAT_100}, {"days": 2, "day": 2, "start_hour": 9, "multiplier": 10,
                                                          "ramp_minutes": 10, "hold_minutes": 60, "decay_minutes": 20})
    assert profile.minutes == 2 * 1440 and profile.spikes[0].start == 1440 + 540
    cases = sim.strategies(profile, settings(min_size=2, max_size=30),
                           {"min_size": 12, "max_size": 60, "scale_out_minutes": 45})
    assert list(cases) == list(sim.STRATEGIES)
    out, back = cases[sim.STRATEGIES[2]].schedule
    assert (out.minute, out.min_size, out.max_size) == (1440 + 540 - 45, 12, 60)
    assert (back.minute, back.min_size, back.max_size) == (1440 + 540 + 10 + 60 + 20, 2, 30)
    results = sim.compare(profile, cases)
    assert results[sim.STRATEGIES[2]].instances[1440 + 540 - 45] == 12


def test_a_quiet_month_of_a_flat_load():
    hours = sim.month_instance_hours({"hourly_rps": FLAT_100}, settings(min_size=1))
    assert hours["instance_hours"] == 2 * 730 and hours["average_instances"] == 2 and hours["requests_at_risk"] == 0


def test_bad_traffic_profiles_name_the_field():
    errors = sim.check_traffic({"hourly_rps": [1] * 23, "instance_rps": 0, "ready_minutes": 5,
                                "promotion_spike": {"multiplier": 0.5, "day": 4, "days": 3}})
    text = "; ".join(errors)
    assert "traffic_profile.hourly_rps must be 24 numbers" in text
    assert "traffic_profile.instance_rps must be a number above 0" in text
    assert "promotion_spike.multiplier must be 1 or more" in text
    assert "promotion_spike.day (4) must lie within days (3)" in text

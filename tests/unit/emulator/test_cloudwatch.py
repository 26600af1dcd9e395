"""The emulator's CloudWatch: the clock (clock.py), the metric store and its statistics
(metrics.py), and how an alarm decides its state (alarms.py), without a server."""

import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

EMULATOR = Path(__file__).resolve().parents[3] / "tools/emulator"
sys.path.insert(0, str(EMULATOR))

import alarms  # noqa: E402
import clock  # noqa: E402
import metrics  # noqa: E402


def test_the_clock_runs_at_its_rate_and_a_new_rate_goes_on_from_where_it_is():
    clock.configure(100)
    try:
        start_real, start = time.time(), clock.timestamp()
        time.sleep(0.2)
        ran = clock.timestamp() - start
        assert 15 <= ran <= 100 * (time.time() - start_real) + 1
        assert clock.real(60) == pytest.approx(0.6)
        before = clock.timestamp()
        clock.set_rate(1)
        assert 0 <= clock.timestamp() - before < 1, "the emulated time jumped back to the real one"
        with pytest.raises(ValueError, match="above 0"):
            clock.set_rate(0)
    finally:
        clock.configure(1)


def test_statistics_per_period_with_exact_dimensions_and_percentiles():
    store = metrics.Store()
    base = 1_800_000_000 // 300 * 300  # a 5-minute boundary
    for second, value in ((0, 0.1), (10, 0.3), (70, 0.2), (130, 2.0)):
        store.add("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/shop/1"}, value, base + second, "Seconds")
    store.add("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/shop/1", "TargetGroup": "targetgroup/web/2"},
              9.0, base + 5, "Seconds")
    minutes = store.statistics("AWS/ApplicationELB", "TargetResponseTime", [{"Name": "LoadBalancer", "Value": "app/shop/1"}],
                               base, base + 300, 60, ["Average", "Maximum", "SampleCount", "p50"])
    assert [p["values"] for p in minutes] == [
        {"Average": pytest.approx(0.2), "Maximum": 0.3, "SampleCount": 2, "p50": 0.1},
        {"Average": 0.2, "Maximum": 0.2, "SampleCount": 1, "p50": 0.2},
        {"Average": 2.0, "Maximum": 2.0, "SampleCount": 1, "p50": 2.0}]
    assert minutes[0]["Timestamp"].timestamp() == base and minutes[0]["Unit"] == "Seconds"
    # One 5-minute period: the 9 s answer is another metric (two dimensions), not counted here.
    (five,) = store.statistics("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/shop/1"},
                               base, base + 300, 300, ["Sum", "p95", "Minimum"])
    assert five["values"] == {"Sum": pytest.approx(2.6), "p95": 2.0, "Minimum": 0.1}
    assert store.statistics("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/other/3"},
                            base, base + 300, 60, ["Sum"]) == []


def alarm(**overrides):
    values = {"comparison_operator": "GreaterThanThreshold", "threshold": 50.0, "evaluation_periods": 3,
              "datapoints_to_alarm": None, "treat_missing_data": None, "state_value": "OK"}
    values.update(overrides)
    return SimpleNamespace(**values)


@pytest.mark.parametrize("values, overrides, state", [
    ([60, 70, 80], {}, "ALARM"),
    ([60, 40, 80], {}, "OK"),
    ([60, 40, 80], {"datapoints_to_alarm": 2}, "ALARM"),
    ([None, None, None], {}, "INSUFFICIENT_DATA"),
    ([None, None, None], {"treat_missing_data": "ignore", "state_value": "ALARM"}, "ALARM"),
    ([None, None, None], {"treat_missing_data": "notBreaching"}, "OK"),
    ([None, None, None], {"treat_missing_data": "breaching"}, "ALARM"),
    # Fewer datapoints than needed, all breaching: ALARM; one of them not: OK.
    ([None, None, 80], {}, "ALARM"),
    ([None, None, 80], {"treat_missing_data": "ignore"}, "OK"),
    ([None, None, 80], {"treat_missing_data": "ignore", "state_value": "INSUFFICIENT_DATA"}, "INSUFFICIENT_DATA"),
    ([None, 40, 80], {}, "OK"),
    ([None, 70, 80], {"treat_missing_data": "notBreaching"}, "OK"),
    ([None, 70, 80], {"treat_missing_data": "breaching"}, "ALARM"),
    ([10, 20, 30], {"comparison_operator": "LessThanThreshold", "threshold": 45.0}, "ALARM"),
    ([50, 50, 50], {"comparison_operator": "GreaterThanOrEqualToThreshold"}, "ALARM"),
])
def test_an_alarm_decides_as_cloudwatch_does(values, overrides, state):
    decided, reason = alarms.decide(alarm(**overrides), values)
    assert decided == state, reason


def test_the_reason_names_the_datapoints_and_the_threshold():
    _, reason = alarms.decide(alarm(threshold=15.0), [20.5, 10, 31])
    assert reason == ("Threshold Crossed: 1 out of the last 3 datapoints [20.5, 10, 31] were not greater than the "
                      "threshold (15) (minimum 1 datapoint for OK -> OK transition).")
    _, reason = alarms.decide(alarm(threshold=15.0, datapoints_to_alarm=2), [20.5, None, 31])
    assert reason == ("Threshold Crossed: 2 out of the last 3 datapoints [20.5, missing, 31] were greater than the "
                      "threshold (15) (minimum 2 datapoints for OK -> ALARM transition).")

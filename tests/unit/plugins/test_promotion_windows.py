"""Promotion windows into scheduled actions (plugins/module_utils/promotions.py), and the filter
the compute role validates them with."""

import datetime as dt

import pytest
from conftest import load

promo = load("plugins/module_utils/promotions.py")
scaling_filter = load("plugins/filter/scaling.py")

NOW = dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC)


def sale(**overrides):
    values = {"name": "sale", "start": "2027-07-01T08:00:00+02:00", "end": "2027-07-04T23:59:00+02:00",
              "min_size": 6, "max_size": 40, "scale_out_minutes": 30}
    values.update(overrides)
    return values


def test_two_actions_in_utc_around_the_window():
    out, back = promo.plan([sale()], 3, 30, now=NOW)
    assert (out["name"], out["start_time"], out["min_size"], out["max_size"]) == (
        "promotion-sale-scale-out", dt.datetime(2027, 7, 1, 5, 30, tzinfo=dt.UTC), 6, 40)
    assert (back["name"], back["start_time"], back["min_size"], back["max_size"]) == (
        "promotion-sale-scale-back", dt.datetime(2027, 7, 4, 21, 59, tzinfo=dt.UTC), 3, 30)
    assert not out["past"] and not back["past"]


def test_every_broken_rule_is_reported_at_once():
    with pytest.raises(promo.PromotionError) as caught:
        promo.plan([sale(name="Big Sale", min_size=2, max_size=20, scale_out_minutes=-5),
                    {"name": "x", "start": "2027-07-01"}], 3, 30, now=NOW, variable="compute_promotions")
    text = str(caught.value)
    assert "compute_promotions[0] (Big Sale).name must be" in text
    assert "scale_out_minutes must be 0-1440" in text
    assert "min_size (2) must be at least the group's min size (3)" in text
    assert "max_size (20) must not be below the group's max size (30)" in text
    assert "compute_promotions[1] misses end, min_size, max_size" in text


def test_windows_overlap_from_the_scale_out_on():
    first = sale(name="a", end="2027-07-02T00:00:00Z")
    # b opens at 00:40Z and scales out 45 minutes earlier, at 23:55Z: inside a's window.
    second = sale(name="b", start="2027-07-02T00:40:00Z", end="2027-07-03T00:00:00Z", scale_out_minutes=45)
    with pytest.raises(promo.PromotionError, match="promotions a .* and b .* overlap"):
        promo.plan([second, first], 3, 30, now=NOW)
    assert len(promo.plan([first, dict(second, scale_out_minutes=30)], 3, 30, now=NOW)) == 4


def test_past_and_under_way():
    with pytest.raises(promo.PromotionError, match=r"ended at 2027-07-04T21:59Z, in the past: remove it"):
        promo.plan([sale()], 3, 30, now=dt.datetime(2027, 7, 5, tzinfo=dt.UTC))
    out, back = promo.plan([sale()], 3, 30, now=dt.datetime(2027, 7, 2, tzinfo=dt.UTC))
    assert out["past"] and not back["past"]
    todo = promo.reconcile([out, back], [], "promotion-")
    assert [a["name"] for a in todo["put"]] == ["promotion-sale-scale-back"], "a past action was scheduled"
    # Moved earlier after its scale-out was scheduled: the old action would fire late, so it goes.
    old = {"scheduled_action_name": "promotion-sale-scale-out", "start_time": dt.datetime(2027, 7, 3, tzinfo=dt.UTC),
           "min_size": 6, "max_size": 40}
    assert promo.reconcile([out, back], [old], "promotion-")["delete"] == ["promotion-sale-scale-out"]


def test_times_need_an_offset():
    with pytest.raises(promo.PromotionError, match="needs a UTC offset"):
        promo.plan([sale(start="2027-07-01T08:00:00")], 3, 30, now=NOW)
    with pytest.raises(promo.PromotionError, match="must be an ISO 8601 time"):
        promo.plan([sale(end="next friday")], 3, 30, now=NOW)


def test_reconcile_puts_changes_deletes_strays_and_leaves_others_alone():
    wanted = promo.plan([sale()], 3, 30, now=NOW)
    existing = [
        {"scheduled_action_name": "promotion-sale-scale-out", "start_time": dt.datetime(2027, 7, 1, 5, 30, tzinfo=dt.UTC),
         "min_size": 6, "max_size": 40},
        {"scheduled_action_name": "promotion-sale-scale-back", "start_time": dt.datetime(2027, 7, 4, 21, 59, tzinfo=dt.UTC),
         "min_size": 3, "max_size": 25},
        {"scheduled_action_name": "promotion-old-scale-back", "start_time": NOW, "min_size": 3, "max_size": 30},
        {"scheduled_action_name": "nightly", "recurrence": "0 2 * * *", "min_size": 1, "max_size": 2},
    ]
    todo = promo.reconcile(wanted, existing, "promotion-")
    assert todo["keep"] == ["promotion-sale-scale-out"]
    assert [a["name"] for a in todo["put"]] == ["promotion-sale-scale-back"]
    assert todo["delete"] == ["promotion-old-scale-back"]


def test_the_filter_names_the_variable():
    with pytest.raises(Exception, match=r"compute_promotions: compute_promotions\[0\] \(old\) ended"):
        scaling_filter.promotion_actions([sale(name="old", start="2020-01-01T00:00:00Z", end="2020-01-02T00:00:00Z")],
                                         3, 30, "compute_promotions")
    actions = scaling_filter.promotion_actions([sale(start="2099-07-01T08:00:00Z", end="2099-07-02T08:00:00Z")], 3, 30)
    assert [a["start_time"] for a in actions] == ["2099-07-01T07:30:00Z", "2099-07-02T08:00:00Z"]


def test_limits_hold_a_promotion_under_way_and_fall_back_after():
    before = promo.plan([sale()], 3, 30, now=NOW)
    assert promo.limits(before, 3, 30, desired=5) == {"min_size": 3, "max_size": 30, "under_way": []}
    # 06:00Z on opening day: the scale-out (05:30Z) has run, the scale-back (21:59Z on the 4th) has not.
    during = promo.plan([sale()], 3, 30, now=dt.datetime(2027, 7, 1, 6, 0, tzinfo=dt.UTC))
    held = promo.limits(during, 3, 30, desired=12)
    assert (held["min_size"], held["max_size"]) == (6, 40)
    assert held["under_way"] == [{"name": "sale", "min_size": 6, "max_size": 40,
                                  "since": dt.datetime(2027, 7, 1, 5, 30, tzinfo=dt.UTC),
                                  "until": dt.datetime(2027, 7, 4, 21, 59, tzinfo=dt.UTC)}]
    # Someone raised the ceiling by hand and target tracking went past the promotion's: a
    # maximum below the desired capacity would terminate instances at once, so it stays.
    assert promo.limits(during, 3, 30, desired=52)["max_size"] == 52
    # Before the scale-out, or with no promotion, the desired capacity does not matter.
    assert promo.limits(promo.plan([], 3, 30, now=NOW), 3, 30, desired=52)["max_size"] == 30


def test_the_limits_filter_gives_times_as_text():
    found = scaling_filter.promotion_limits([sale(start="2020-01-01T00:00:00Z", end="2099-01-01T00:00:00Z")], 3, 30, "8")
    assert (found["min_size"], found["max_size"]) == (6, 40)
    assert found["under_way"][0]["since"] == "2019-12-31T23:30:00Z" and found["under_way"][0]["until"] == "2099-01-01T00:00:00Z"
    assert scaling_filter.promotion_limits([], 3, 30, "")["under_way"] == []
    with pytest.raises(Exception, match=r"compute_promotions: compute_promotions\[0\] \(sale\).min_size \(1\)"):
        scaling_filter.promotion_limits([sale(min_size=1)], 3, 30, None, "compute_promotions")

import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/autoscaling_refresh.py")


def test_preferences_for_api_leaves_out_unset_options(mod):
    assert mod.preferences_for_api({"min_healthy_percentage": 100, "max_healthy_percentage": 150, "instance_warmup": None,
                                    "skip_matching": True, "checkpoint_percentages": None, "checkpoint_delay": None,
                                    "auto_rollback": True, "alarms": []}) == {
        "MinHealthyPercentage": 100, "MaxHealthyPercentage": 150, "SkipMatching": True, "AutoRollback": True}


def test_preferences_for_api_maps_checkpoints_and_alarms(mod):
    api = mod.preferences_for_api({"min_healthy_percentage": 90, "checkpoint_percentages": [50, 100],
                                   "checkpoint_delay": 300, "instance_warmup": 60, "alarms": ["shop-target-5xx"],
                                   "skip_matching": False, "auto_rollback": False})
    assert api["CheckpointPercentages"] == [50, 100] and api["CheckpointDelay"] == 300
    assert api["InstanceWarmup"] == 60 and api["AlarmSpecification"] == {"Alarms": ["shop-target-5xx"]}
    assert api["SkipMatching"] is False and api["AutoRollback"] is False


@pytest.mark.parametrize("prefs, option", [
    ({"min_healthy_percentage": 101}, "min_healthy_percentage"),
    ({"min_healthy_percentage": 90, "max_healthy_percentage": 99}, "max_healthy_percentage"),
    ({"min_healthy_percentage": 50, "max_healthy_percentage": 160}, "max_healthy_percentage"),
    ({"checkpoint_percentages": [60, 30]}, "checkpoint_percentages"),
    ({"checkpoint_percentages": [0, 100]}, "checkpoint_percentages"),
    ({"instance_warmup": -1}, "instance_warmup"),
])
def test_check_preferences_names_the_option(mod, prefs, option):
    assert option in mod.check_preferences(prefs)


def test_check_preferences_accepts_the_defaults_of_the_rollout_role(mod):
    assert mod.check_preferences({"min_healthy_percentage": 100, "max_healthy_percentage": 150,
                                  "checkpoint_percentages": [50, 100], "instance_warmup": 180}) is None

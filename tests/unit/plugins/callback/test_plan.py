"""The plan callback's reading of task results (plugins/callback/plan.py)."""

import pytest


@pytest.fixture(scope="module")
def plan(plugin):
    return plugin("plugins/callback/plan.py")


def test_a_diff_tells_add_change_and_destroy(plan):
    group = {"changed": True, "diff": {"before": {"max_size": 3, "min_size": 1}, "after": {"max_size": 5, "min_size": 1}},
             "invocation": {"module_args": {"name": "shop-local-web"}}}
    assert plan.entries("amazon.aws.autoscaling_group", "compute | group", group) == [
        {"resource": "amazon.aws.autoscaling_group", "task": "compute | group", "name": "shop-local-web", "action": "change",
         "attributes": {"max_size": {"before": 3, "after": 5}}}]
    added = {"changed": True, "diff": {"before": {}, "after": {"name": "q"}}, "invocation": {"module_args": {"name": "q"}}}
    assert plan.entries("amazon.aws.sqs_queue", "t", added)[0]["action"] == "add"
    gone = {"changed": True, "diff": [{"before": {"name": "a"}, "after": {"state": "absent"}}]}
    assert plan.entries("amazon.aws.cloudwatch_metric_alarm", "alarm", gone)[0]["action"] == "destroy"


def test_a_prediction_wins_and_a_change_without_detail_says_so(plan):
    predicted = {"changed": True, "shop_plan": {"action": "replace", "name": "shop-db", "attributes": {
        "engine": {"before": "mariadb", "after": "mysql"}}, "downtime": True, "applies": "now"}}
    entry = plan.entries("amazon.aws.rds_instance", "database | instance", predicted)[0]
    assert entry["action"] == "replace" and plan.describe(entry) == (
        'replace  amazon.aws.rds_instance shop-db [replacement, downtime (now)] (engine: mariadb -> mysql)')
    bare = {"changed": True, "invocation": {"module_args": {"log_group_name": "/shop/web", "retention": 14}}}
    assert plan.describe(plan.entries("amazon.aws.cloudwatchlogs_log_group", "logs", bare)[0]) == (
        "change   amazon.aws.cloudwatchlogs_log_group /shop/web (the module reports no detail)")
    assert plan.entries("amazon.aws.s3_bucket", "bucket", {"changed": False, "diff": {"before": {}, "after": {}}}) == []
    hidden = plan.entries("shop.aws.ssm_parameters", "secret", {"changed": True, "censored": "hidden"})
    assert hidden[0]["note"] == "output hidden (no_log)"


def test_loop_items_each_count_and_the_summary_reads_like_a_plan(plan):
    looped = {"changed": True, "results": [
        {"changed": True, "diff": {"before": {"retention": 7}, "after": {"retention": 14}}, "item": "/a",
         "invocation": {"module_args": {"log_group_name": "/a"}}},
        {"changed": False, "item": "/b"}]}
    found = plan.entries("amazon.aws.cloudwatchlogs_log_group", "logs", looped)
    assert [(e["name"], e["attributes"]) for e in found] == [("/a", {"retention": {"before": 7, "after": 14}})]
    assert plan.summary_line({"add": 1, "change": 2, "replace": 0, "destroy": 0}) == (
        "Plan: 1 to add, 2 to change, 0 to replace, 0 to destroy")
    text = plan.markdown({"summary": "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy", "check_mode": True,
                          "other_changes": 0, "resources": found})
    assert "| change | amazon.aws.cloudwatchlogs_log_group | /a | `retention`: 7 -> 14 |  |" in text


def test_a_prediction_supersedes_the_same_resources_change_without_detail(plan):
    bare = plan.entries("amazon.aws.rds_instance", "start", {"changed": True, "invocation": {
        "module_args": {"db_instance_identifier": "shop-db"}}})
    predicted = plan.entries("shop.aws.plan_change", "predict", {"changed": True, "shop_plan": {
        "action": "change", "resource": "amazon.aws.rds_instance", "name": "shop-db",
        "attributes": {"backup_retention_period": {"before": 1, "after": 7}}}})
    other = plan.entries("amazon.aws.s3_bucket", "bucket", {"changed": True, "invocation": {"module_args": {"name": "b"}}})
    settled = plan.settle(bare + predicted + other)
    assert [(e["resource"], e["name"], e.get("note")) for e in settled] == [
        ("amazon.aws.rds_instance", "shop-db", None), ("amazon.aws.s3_bucket", "b", "the module reports no detail")]


def test_a_resource_is_named_by_its_name_else_its_name_tag_else_what_locates_it(plan):
    assert plan.resource_name({"db_instance_identifier": "shop-db", "vpc_id": "vpc-1"}, "t") == "shop-db"
    assert plan.resource_name({"vpc_id": "vpc-1", "cidr": "10.0.1.0/24", "tags": {"Name": "shop-app-a"}}, "t") == "shop-app-a"
    assert plan.resource_name({"vpc_id": "vpc-1", "cidr": "10.0.1.0/24"}, "t") == "10.0.1.0/24"
    assert plan.resource_name({}, "the task") == "the task"


@pytest.mark.parametrize("check, expected", [(True, True), (False, False)])
def test_the_wording_follows_the_runs_check_option_not_a_task_forced_to_check_mode(plan, monkeypatch, check, expected):
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=check))
    callback = plan.CallbackModule()

    class Play:
        check_mode = False

    callback.v2_playbook_on_play_start(Play())
    assert callback.check_mode is expected


def test_settle_keys_on_resource_and_name_folds_a_change_into_its_destroy_and_merges_repeats(plan):
    bare = {"resource": "amazon.aws.autoscaling_group", "name": "shop-web", "action": "destroy", "attributes": {},
            "note": "the module reports no detail"}
    # Another resource of the same name, with detail, does not hide the group.
    group = {"resource": "amazon.aws.ec2_security_group", "name": "shop-web", "action": "change",
             "attributes": {"ip_permissions": {"before": [1], "after": []}}}
    deleted = {"resource": "amazon.aws.ec2_security_group", "name": "shop-web", "action": "destroy", "attributes": {}}
    started = {"resource": "shop.aws.elasticache_replication_group", "name": "shop-redis", "action": "destroy", "attributes": {}}
    settled = plan.settle([bare, group, deleted, started, dict(started)])
    assert [(e["resource"], e["action"]) for e in settled] == [
        ("amazon.aws.autoscaling_group", "destroy"), ("amazon.aws.ec2_security_group", "destroy"),
        ("shop.aws.elasticache_replication_group", "destroy")]


def test_a_resource_deleted_by_its_id_is_named_from_the_diffs_before(plan):
    result = {"changed": True, "invocation": {"module_args": {"group_id": "sg-1", "state": "absent"}},
              "diff": {"before": {"group_name": "shop-web", "group_id": "sg-1", "description": "web"}, "after": {}}}
    [entry] = plan.entries("amazon.aws.ec2_security_group", "security : absent | Delete the groups", result)
    assert (entry["name"], entry["action"], entry["attributes"]) == ("shop-web", "destroy", {})


def test_an_async_start_is_not_a_change_and_its_status_passes_the_modules_entry_on(plan):
    started = {"changed": True, "ansible_job_id": "j1", "started": 1, "finished": 0}
    assert plan.entries("shop.aws.cloudfront_distribution_config", "cdn | start deleting", started) == []
    status = {"changed": True, "finished": 1, "ansible_job_id": "j1", "shop_plan": {
        "action": "destroy", "resource": "shop.aws.cloudfront_distribution_config", "name": "shop shop", "attributes": {}}}
    [entry] = plan.entries("ansible.builtin.async_status", "cdn | wait", status)
    assert (entry["resource"], entry["action"], entry["name"]) == ("shop.aws.cloudfront_distribution_config", "destroy", "shop shop")


def test_a_deletion_without_a_diff_is_a_plain_destroy_and_a_listed_diff_still_names_it(plan):
    result = {"changed": True, "invocation": {"module_args": {"name": "shop-web", "state": "absent"}}}
    [entry] = plan.entries("amazon.aws.autoscaling_group", "compute | delete", result)
    assert (entry["action"], entry["attributes"], entry.get("note")) == ("destroy", {}, None)
    listed = {"changed": True, "invocation": {"module_args": {"group_id": "sg-2", "state": "absent"}},
              "diff": [{"before": {"group_name": "shop-db", "group_id": "sg-2"}, "after": {}}]}
    assert plan.entries("amazon.aws.ec2_security_group", "t", listed)[0]["name"] == "shop-db"


def test_a_result_hidden_by_no_log_gives_way_to_a_prediction_of_its_module(plan):
    hidden = plan.entries("amazon.aws.elb_application_lb", "lb | listeners", {"changed": True, "censored": "hidden"})
    predicted = {"resource": "amazon.aws.elb_application_lb", "name": "shop", "action": "change",
                 "attributes": {"idle_timeout": {"before": 60, "after": 120}}}
    assert [e["name"] for e in plan.settle(hidden + hidden + [predicted])] == ["shop"]
    assert [e["note"] for e in plan.settle(hidden + hidden)] == ["output hidden (no_log)"]

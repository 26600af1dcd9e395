"""The stack filters: names defined once, and the route-table comparison the network role
uses to leave alone the tables already as set."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.filter.stack import converged_route_table, route_table_plan, stack_names, tag_changes

TAGS = {"Stack": "shop-test", "Name": "shop-test-public", "Tier": "public"}
TABLE = {"id": "rtb-1", "name": "shop-test-public", "tags": TAGS, "subnet_ids": ["subnet-a", "subnet-b"],
         "routes": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]}


def test_names_are_derived_from_the_stack():
    names = stack_names("shop-production")
    assert names["auto_scaling_group"] == "shop-production-web"
    assert names["security_groups"]["db"] == "shop-production-db"
    assert names["distribution_comment"] == "shop-production shop"
    with pytest.raises(AnsibleFilterError, match=r"must be a non-empty string \(got ''\)"):
        stack_names("")


def test_a_table_as_set_is_found():
    routes = [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]
    assert converged_route_table([TABLE], TAGS, ["subnet-b", "subnet-a"], routes) == "rtb-1"


@pytest.mark.parametrize("tags, subnets, routes", [
    (dict(TAGS, Name="other"), ["subnet-a", "subnet-b"], [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]),
    (dict(TAGS, Extra="x"), ["subnet-a", "subnet-b"], [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]),
    (TAGS, ["subnet-a"], [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]),
    (TAGS, ["subnet-a", "subnet-b"], [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-1"}]),
    (TAGS, ["subnet-a", "subnet-b"], []),
])
def test_a_table_that_differs_or_is_missing_is_converged(tags, subnets, routes):
    assert converged_route_table([TABLE], tags, subnets, routes) == ""
    assert converged_route_table([], tags, subnets, routes) == ""


def test_a_route_table_plan_says_what_a_converge_would_change():
    routes = [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]
    assert route_table_plan([TABLE], TAGS, ["subnet-b", "subnet-a"], routes) == {"action": "change", "attributes": {}}
    deleted = dict(TABLE, routes=[])
    assert route_table_plan([deleted], TAGS, ["subnet-a", "subnet-b"], routes)["attributes"] == {
        "routes": [[], ["0.0.0.0/0 -> igw-1"]]}
    moved = route_table_plan([TABLE], dict(TAGS, Tier="edge"), ["subnet-a"], [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-1"}])
    assert moved["attributes"] == {"routes": [["0.0.0.0/0 -> igw-1"], ["0.0.0.0/0 -> nat-1"]],
                                   "subnets": [["subnet-a", "subnet-b"], ["subnet-a"]], "tag Tier": ["public", "edge"]}
    added = route_table_plan([TABLE], dict(TAGS, Name="shop-test-db"), ["subnet-c"], [])
    assert added["action"] == "add" and added["attributes"]["subnets"] == [None, ["subnet-c"]]
    assert added["attributes"]["tag Name"] == [None, "shop-test-db"]


def test_tag_changes_name_each_tag_that_differs():
    assert tag_changes({"Name": "renamed", "Stack": "s", "Old": "x"}, {"Name": "shop-app", "Stack": "s"}) == {
        "tag Name": ["renamed", "shop-app"], "tag Old": ["x", None]}
    assert tag_changes(None, {}) == {}

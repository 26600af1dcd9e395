"""The stack filters: names defined once, and the route-table comparison the network role
uses to leave alone the tables already as set."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.filter.stack import converged_route_table, stack_names

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

import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/vpc_flow_log.py")


@pytest.mark.parametrize("resource, kind", [("vpc-0abc", "VPC"), ("subnet-1", "Subnet"), ("eni-9", "NetworkInterface"), ("i-123", None)])
def test_resource_type(mod, resource, kind):
    assert mod._resource_type(resource) == kind


def test_normalise_returns_tags_as_a_dict(mod):
    flow = {"FlowLogId": "fl-1", "TrafficType": "ALL", "Tags": [{"Key": "Stack", "Value": "s"}]}
    assert mod._normalise(flow) == {"flow_log_id": "fl-1", "traffic_type": "ALL", "tags": {"Stack": "s"}}
    assert mod._normalise(None) == {}

import pytest
from ansible.errors import AnsibleFilterError


@pytest.fixture(scope="module")
def network(plugin):
    return plugin("plugins/filter/network.py")


@pytest.mark.parametrize("vpc, azs, newbits, expected", [
    ("10.0.0.0/16", ["a", "b"], None, {"public": ["10.0.0.0/19", "10.0.32.0/19"], "app": ["10.0.64.0/19", "10.0.96.0/19"],
                                       "db": ["10.0.128.0/19", "10.0.160.0/19"]}),
    ("10.0.0.0/16", ["a", "b", "c"], None, {"public": ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
                                            "app": ["10.0.64.0/20", "10.0.80.0/20", "10.0.96.0/20"],
                                            "db": ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"]}),
    ("10.0.0.0/16", ["a", "b"], 8, {"public": ["10.0.0.0/24", "10.0.1.0/24"], "app": ["10.0.64.0/24", "10.0.65.0/24"],
                                    "db": ["10.0.128.0/24", "10.0.129.0/24"]}),
    ("192.168.10.0/24", ["a", "b"], None, {"public": ["192.168.10.0/27", "192.168.10.32/27"],
                                           "app": ["192.168.10.64/27", "192.168.10.96/27"],
                                           "db": ["192.168.10.128/27", "192.168.10.160/27"]}),
])
def test_subnet_plan(network, vpc, azs, newbits, expected):
    plan = network.subnet_plan(vpc, azs, newbits=newbits)
    assert {tier: [s["cidr"] for s in subnets] for tier, subnets in plan.items()} == expected
    assert all([s["az"] for s in subnets] == azs for subnets in plan.values())


@pytest.mark.parametrize("vpc, azs, newbits, message", [
    ("10.0.0.0/33", ["a"], None, "vpc_cidr"),
    ("10.0.0.1/16", ["a"], None, "vpc_cidr"),
    ("10.0.0.0/16", [], None, "azs"),
    ("10.0.0.0/16", ["a", "b", "c"], 3, "newbits"),
    ("10.0.0.0/26", ["a", "b", "c"], None, "/28"),
])
def test_subnet_plan_refuses(network, vpc, azs, newbits, message):
    with pytest.raises(AnsibleFilterError, match=message):
        network.subnet_plan(vpc, azs, newbits=newbits)


@pytest.mark.parametrize("cidrs, expected", [
    (["10.0.0.0/24", "10.0.1.0/24"], []),
    (["10.0.0.0/24", "10.0.0.128/25"], ["10.0.0.0/24 overlaps 10.0.0.128/25"]),
    (["10.0.0.0/16", "10.1.0.0/16", "10.0.5.0/24"], ["10.0.0.0/16 overlaps 10.0.5.0/24"]),
])
def test_cidr_overlaps(network, cidrs, expected):
    assert network.cidr_overlaps(cidrs) == expected


@pytest.mark.parametrize("cidrs, expected", [
    (["10.0.0.0/24"], []),
    (["10.0.0.1/24", "300.0.0.0/8", "banana", "fd00::/8"], ["10.0.0.1/24", "300.0.0.0/8", "banana", "fd00::/8"]),
])
def test_cidr_invalid(network, cidrs, expected):
    assert network.cidr_invalid(cidrs) == expected


def test_cidr_outside(network):
    assert network.cidr_outside(["10.0.1.0/24", "10.9.0.0/24"], "10.0.0.0/16") == ["10.9.0.0/24"]


def test_explicit_subnet_plan(network):
    plan = network.explicit_subnet_plan({"public": ["10.0.0.0/24", "10.0.1.0/24"]}, ["a", "b"])
    assert plan == {"public": [{"az": "a", "cidr": "10.0.0.0/24"}, {"az": "b", "cidr": "10.0.1.0/24"}]}
    with pytest.raises(AnsibleFilterError, match="subnets.public"):
        network.explicit_subnet_plan({"public": ["10.0.0.0/24"]}, ["a", "b"])

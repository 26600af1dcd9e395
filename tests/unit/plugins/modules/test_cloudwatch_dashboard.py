import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/cloudwatch_dashboard.py")


@pytest.mark.parametrize("body, expected", [
    ({"widgets": []}, {"widgets": []}),
    ('{"widgets": [{"type": "text"}]}', {"widgets": [{"type": "text"}]}),
])
def test_parse_body(mod, body, expected):
    assert mod.parse_body(body) == expected


@pytest.mark.parametrize("body", ["[1, 2]", "not json", "{"])
def test_parse_body_refuses(mod, body):
    with pytest.raises(ValueError):
        mod.parse_body(body)


def test_canonical_ignores_order_and_spacing(mod):
    assert mod.canonical({"b": 1, "a": [1, 2]}) == mod.canonical({"a": [1, 2], "b": 1})
    assert mod.canonical({"a": [1, 2]}) != mod.canonical({"a": [2, 1]})


@pytest.mark.parametrize("name, valid", [("shop-production", True), ("shop_prod2", True), ("shop prod", False), ("", False)])
def test_names(mod, name, valid):
    assert bool(mod.NAME_RE.match(name)) is valid

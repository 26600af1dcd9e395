import copy

import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/cloudfront_origin_access_control.py")


CONFIG = {"Origins": {"Quantity": 2, "Items": [
    {"Id": "s3", "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E9"}},
    {"Id": "alb", "CustomOriginConfig": {}},
]}}


@pytest.mark.parametrize("params, current, expected", [
    ({"name": "n", "description": None, "signing_behavior": "always", "origin_type": "s3"}, None,
     {"Name": "n", "Description": "", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}),
    ({"name": "n", "description": None, "signing_behavior": "never", "origin_type": "s3"}, {"Description": "kept"},
     {"Name": "n", "Description": "kept", "SigningProtocol": "sigv4", "SigningBehavior": "never", "OriginAccessControlOriginType": "s3"}),
])
def test_desired_config_keeps_an_unset_description(mod, params, current, expected):
    assert mod.desired_config(params, current) == expected


def test_attach_replaces_the_legacy_identity(mod):
    changed, config = mod.set_origin_oac(copy.deepcopy(CONFIG), "s3", "E1")
    assert changed
    s3 = config["Origins"]["Items"][0]
    assert s3["OriginAccessControlId"] == "E1" and s3["S3OriginConfig"]["OriginAccessIdentity"] == ""
    changed, _config = mod.set_origin_oac(config, "s3", "E1")
    assert not changed


def test_detach_and_unknown_origin(mod):
    _changed, config = mod.set_origin_oac(copy.deepcopy(CONFIG), "s3", "E1")
    changed, config = mod.set_origin_oac(config, "s3", "")
    assert changed and config["Origins"]["Items"][0]["OriginAccessControlId"] == ""
    with pytest.raises(KeyError):
        mod.set_origin_oac(config, "missing", "E1")

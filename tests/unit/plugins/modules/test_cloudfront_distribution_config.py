import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/cloudfront_distribution_config.py")


CURRENT = {
    "Comment": "shop",
    "Enabled": True,
    "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "b.s3.amazonaws.com", "ConnectionAttempts": 3,
                                          "OriginAccessControlId": ""}]},
    "DefaultCacheBehavior": {"TargetOriginId": "s3", "Compress": True, "MinTTL": 0},
    "WebACLId": "",
}


@pytest.mark.parametrize("desired, expected", [
    ({"Comment": "shop"}, []),
    ({"Comment": "shop", "Enabled": False}, ["Enabled"]),
    ({"DefaultCacheBehavior": {"Compress": True}}, []),
    ({"DefaultCacheBehavior": {"Compress": False}}, ["DefaultCacheBehavior.Compress"]),
    ({"Origins": {"Quantity": 1, "Items": [{"Id": "s3", "OriginAccessControlId": "E1"}]}},
     ["Origins.Items[0].OriginAccessControlId"]),
    ({"Origins": {"Quantity": 2, "Items": [{"Id": "s3"}, {"Id": "alb"}]}}, ["Origins.Quantity", "Origins.Items"]),
    ({"WebACLId": None}, []),
    ({"PriceClass": "PriceClass_100"}, ["PriceClass"]),
])
def test_differences_compare_only_what_is_set(mod, desired, expected):
    assert mod.differences(desired, CURRENT) == expected


def test_merged_keeps_what_is_not_set(mod):
    result = mod.merged({"Origins": {"Quantity": 1, "Items": [{"Id": "s3", "OriginAccessControlId": "E1"}]},
                         "DefaultCacheBehavior": {"Compress": False}}, CURRENT)
    assert result["Comment"] == "shop"
    assert result["DefaultCacheBehavior"] == {"TargetOriginId": "s3", "Compress": False, "MinTTL": 0}
    assert result["Origins"]["Items"] == [{"Id": "s3", "OriginAccessControlId": "E1"}]
    assert CURRENT["DefaultCacheBehavior"]["Compress"] is True, "merged must not change its input"


def test_the_plan_entry_names_the_distribution_and_each_changed_path(mod):
    current = {"CallerReference": "ref", "Comment": "shop shop", "Enabled": True, "DefaultCacheBehavior": {"Compress": False}}
    entry = mod.plan_entry("change", {"CallerReference": "ref", "DefaultCacheBehavior": {"Compress": True}}, current)
    assert entry == {"action": "change", "resource": "shop.aws.cloudfront_distribution_config", "name": "shop shop",
                     "attributes": {"DefaultCacheBehavior.Compress": {"before": False, "after": True}}}
    assert mod.plan_entry("destroy", {"CallerReference": "ref"}, current)["attributes"] == {}

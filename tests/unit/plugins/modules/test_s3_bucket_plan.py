"""shop.aws.s3_bucket_plan's comparison (plugins/modules/s3_bucket_plan.py): what amazon.aws.s3_bucket would change."""

import pytest

BLOCK = {"block_public_acls": True, "ignore_public_acls": True, "block_public_policy": True, "restrict_public_buckets": True}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                  "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/s3_bucket_plan.py")


def params(**given):
    base = {key: None for key in ("versioning", "encryption", "object_ownership", "public_access", "policy", "tags")}
    return {**base, **given}


def test_an_unset_option_is_not_compared_and_an_unset_block_setting_counts_as_false(mod):
    wanted = mod.wanted_settings(params(versioning=True, public_access={"block_public_acls": True}))
    assert wanted == {"versioning": True, "public_access": {"block_public_acls": True, "ignore_public_acls": False,
                                                            "block_public_policy": False, "restrict_public_buckets": False}}


def test_a_removed_public_access_block_is_a_change_of_it_alone(mod):
    wanted = mod.wanted_settings(params(versioning=True, encryption="AES256", public_access=BLOCK, tags={"Stack": "s"}))
    found = {"versioning": True, "encryption": "AES256", "tags": {"Stack": "s"},
             "public_access": dict.fromkeys(BLOCK, False)}
    assert mod.differences(found, wanted) == {"public_access": {"before": dict.fromkeys(BLOCK, False), "after": BLOCK}}


def test_policies_compare_as_policies_not_text(mod):
    text = '{"Statement": [{"Action": ["s3:*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny", ' \
           '"Principal": "*", "Resource": "arn:aws:s3:::b/*"}], "Version": "2012-10-17"}'
    wanted = mod.wanted_settings(params(policy=text))
    assert mod.differences({"policy": POLICY}, wanted) == {}
    assert set(mod.differences({"policy": None}, wanted)) == {"policy"}
    loose = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Effect": "Allow"}]}
    assert set(mod.differences({"policy": loose}, wanted)) == {"policy"}


def test_tags_follow_purge_tags(mod):
    wanted = mod.wanted_settings(params(tags={"Stack": "s"}))
    assert set(mod.differences({"tags": {"Stack": "s", "Owner": "me"}}, wanted)) == {"tags"}
    assert mod.differences({"tags": {"Stack": "s", "Owner": "me"}}, wanted, purge_tags=False) == {}

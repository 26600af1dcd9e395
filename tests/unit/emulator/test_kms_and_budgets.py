"""The emulator's KMS and Budgets as their API references describe them (tools/emulator/services/
kms.py, budgets.py): keys named by ARN, AWS managed keys as AWS's; a budget updated in place and
its notifications' subscribers."""

import pytest

ACCOUNT = "123456789012"  # tests/conftest.py's session emulator (moto's default account)


def test_a_key_named_by_arn_is_scheduled_for_deletion_and_brought_back(emulator):
    kms = emulator.client("kms")
    arn = kms.create_key(Description="messages")["KeyMetadata"]["Arn"]
    assert kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)["KeyId"]
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=arn)
    kms.enable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"


def test_an_aws_managed_key_is_awss(emulator):
    kms = emulator.client("kms")
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"  # made on first use
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    managers = {kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyId"]: kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyManager"]
                for k in kms.list_keys()["Keys"]}
    assert managers[aliases["alias/aws/ebs"]] == "AWS"
    assert "CUSTOMER" in managers.values()


def test_a_budget_is_updated_and_its_subscribers_converged(emulator):
    budgets = emulator.client("budgets")
    notification = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.0,
                    "ThresholdType": "PERCENTAGE"}
    topic = {"SubscriptionType": "SNS", "Address": "arn:aws:sns:us-east-1:123456789012:alerts"}
    budgets.create_budget(AccountId=ACCOUNT, Budget={
        "BudgetName": "month", "BudgetType": "COST", "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "100", "Unit": "USD"}},
        NotificationsWithSubscribers=[{"Notification": notification, "Subscribers": [topic]}])
    budgets.update_budget(AccountId=ACCOUNT, NewBudget={
        "BudgetName": "month", "BudgetType": "COST", "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": "150", "Unit": "USD"}})
    assert budgets.describe_budget(AccountId=ACCOUNT, BudgetName="month")["Budget"]["BudgetLimit"]["Amount"] == "150"
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.update_budget(AccountId=ACCOUNT, NewBudget={
            "BudgetName": "gone", "BudgetType": "COST", "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": "1", "Unit": "USD"}})

    mail = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}
    budgets.create_subscriber(AccountId=ACCOUNT, BudgetName="month", Notification=notification, Subscriber=mail)
    with pytest.raises(budgets.exceptions.DuplicateRecordException):
        budgets.create_subscriber(AccountId=ACCOUNT, BudgetName="month", Notification=notification, Subscriber=mail)
    budgets.delete_subscriber(AccountId=ACCOUNT, BudgetName="month", Notification=notification, Subscriber=topic)
    assert budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="month", Notification=notification)["Subscribers"] == [mail]
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="gone")

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: budget
short_description: A cost budget of AWS Budgets with its notifications to an SNS topic
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates or deletes a C(COST) budget of the caller's account, and converges its
    notifications (each a percentage of the limit, on actual or forecasted spend) and their one
    subscriber, an SNS topic. Only what differs is sent; C(--diff) shows it.
  - Neither amazon.aws nor community.aws has a Budgets module.
  - The topic's policy must let C(budgets.amazonaws.com) publish, and an encrypted topic's key
    policy must let it use the key (AWS Cost Management User Guide, "Creating an Amazon SNS topic
    for budget notifications").
  - Budgets is a global service, whatever the region.
options:
  name:
    description: Name of the budget (unique in the account).
    type: str
    required: true
  limit_usd:
    description: The budget's amount in USD, per I(time_unit). Required when I(state=present).
    type: float
  time_unit:
    description: The period the amount covers.
    type: str
    choices: [DAILY, MONTHLY, QUARTERLY, ANNUALLY]
    default: MONTHLY
  cost_filters:
    description:
      - "What the budget counts, as AWS Budgets' C(CostFilters); for example
        C({'TagKeyValue': ['user:Stack$shop-production']}) counts the costs of resources tagged
        Stack=shop-production (the tag must be activated as a cost allocation tag)."
      - Empty, the whole account.
    type: dict
    default: {}
  notifications:
    description: When to notify.
    type: list
    elements: dict
    default: []
    suboptions:
      spend:
        description: Actual spend, or the spend forecast for the period.
        type: str
        choices: [ACTUAL, FORECASTED]
        default: ACTUAL
      threshold:
        description: Percentage of the limit.
        type: float
        required: true
      comparison:
        description: How spend compares with the threshold.
        type: str
        choices: [GREATER_THAN, LESS_THAN, EQUAL_TO]
        default: GREATER_THAN
  sns_topic_arn:
    description: The topic every notification goes to. Required when I(notifications) are given.
    type: str
  state:
    description: Whether the budget exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A month of the production stack, alerting at 80 % and 100 %
  shop.aws.budget:
    name: shop-production-monthly
    limit_usd: 2600
    cost_filters:
      TagKeyValue: ["user:Stack$shop-production"]
    notifications:
      - {threshold: 80}
      - {threshold: 100}
      - {spend: FORECASTED, threshold: 100}
    sns_topic_arn: arn:aws:sns:eu-west-1:123456789012:shop-production-alerts
"""

RETURN = r"""
budget:
  description: The budget after the run (none once deleted).
  returned: always
  type: dict
  sample: {"BudgetName": "shop-production-monthly", "BudgetLimit": {"Amount": "2600.00", "Unit": "USD"}, "TimeUnit": "MONTHLY"}
notifications:
  description: The budget's notifications after the run, each with its subscribers.
  returned: always
  type: list
  elements: dict
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def amount(value):
    """Budgets answers amounts as decimal strings ("2600.0", "2600"): compared as cents."""
    return round(float(value) * 100)


def notification(item):
    return {"NotificationType": item["spend"], "ComparisonOperator": item["comparison"],
            "Threshold": float(item["threshold"]), "ThresholdType": "PERCENTAGE"}


def key(found):
    return (found["NotificationType"], found["ComparisonOperator"], float(found["Threshold"]),
            found.get("ThresholdType", "PERCENTAGE"))


class Budget:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "budgets")
        self.account = calls.client(module, "sts").get_caller_identity(aws_retry=True)["Account"]
        self.name = module.params["name"]
        self.unchanged = None  # (budget, notifications) as read, when present() changed nothing

    def read(self):
        try:
            return self.client.describe_budget(aws_retry=True, AccountId=self.account, BudgetName=self.name)["Budget"]
        except is_boto3_error_code("NotFoundException"):
            return None

    def notifications(self):
        found = []
        for item in calls.paginate(self.client, "describe_notifications_for_budget", AccountId=self.account,
                                   BudgetName=self.name).get("Notifications", []):
            subscribers = calls.paginate(self.client, "describe_subscribers_for_notification", AccountId=self.account,
                                         BudgetName=self.name, Notification=item).get("Subscribers", [])
            found.append({"notification": item, "subscribers": subscribers})
        return found

    def wanted(self):
        params = self.module.params
        return {"BudgetName": self.name, "BudgetType": "COST", "TimeUnit": params["time_unit"],
                "BudgetLimit": {"Amount": f"{params['limit_usd']:.2f}", "Unit": "USD"},
                "CostFilters": params["cost_filters"] or {}}

    def differs(self, found, wanted):
        changed = []
        if amount(found["BudgetLimit"]["Amount"]) != amount(wanted["BudgetLimit"]["Amount"]):
            changed.append("limit")
        if found.get("TimeUnit") != wanted["TimeUnit"]:
            changed.append("time_unit")
        if (found.get("CostFilters") or {}) != wanted["CostFilters"]:
            changed.append("cost_filters")
        return changed

    def converge_notifications(self, subscriber, existing):
        wanted = {key(n): n for n in map(notification, self.module.params["notifications"])}
        found = {key(f["notification"]): f for f in existing}
        changed = False
        for name, item in wanted.items():
            if name not in found:
                changed = True
                if not self.module.check_mode:
                    self.client.create_notification(aws_retry=True, AccountId=self.account, BudgetName=self.name,
                                                    Notification=item, Subscribers=[subscriber])
                continue
            have = found[name]["subscribers"]
            for extra in (s for s in have if s != subscriber):
                changed = True
                if not self.module.check_mode:
                    self.client.delete_subscriber(aws_retry=True, AccountId=self.account, BudgetName=self.name,
                                                  Notification=found[name]["notification"], Subscriber=extra)
            if subscriber not in have:
                changed = True
                if not self.module.check_mode:
                    self.client.create_subscriber(aws_retry=True, AccountId=self.account, BudgetName=self.name,
                                                  Notification=found[name]["notification"], Subscriber=subscriber)
        for name in set(found) - set(wanted):
            changed = True
            if not self.module.check_mode:
                self.client.delete_notification(aws_retry=True, AccountId=self.account, BudgetName=self.name,
                                                Notification=found[name]["notification"])
        return changed, sorted(found), sorted(wanted)

    def present(self):
        wanted = self.wanted()
        found = self.read()
        subscriber = {"SubscriptionType": "SNS", "Address": self.module.params["sns_topic_arn"] or ""}
        if found is None:
            if not self.module.check_mode:
                self.client.create_budget(aws_retry=True, AccountId=self.account, Budget=wanted,
                                          NotificationsWithSubscribers=[
                                              {"Notification": notification(n), "Subscribers": [subscriber]}
                                              for n in self.module.params["notifications"]])
            return True, {}, wanted
        changed = self.differs(found, wanted)
        if changed and not self.module.check_mode:
            self.client.update_budget(aws_retry=True, AccountId=self.account, NewBudget=wanted)
        existing = self.notifications()
        notified, before, after = self.converge_notifications(subscriber, existing)
        self.unchanged = None if changed or notified else (found, existing)  # no need to read them again
        summary = {"limit_usd": amount(found["BudgetLimit"]["Amount"]) / 100, "time_unit": found.get("TimeUnit"),
                   "cost_filters": found.get("CostFilters") or {}, "notifications": before}
        return bool(changed) or notified, summary, {
            "limit_usd": amount(wanted["BudgetLimit"]["Amount"]) / 100, "time_unit": wanted["TimeUnit"],
            "cost_filters": wanted["CostFilters"], "notifications": after}

    def absent(self):
        found = self.read()
        if found is None:
            return False
        if not self.module.check_mode:
            try:
                self.client.delete_budget(aws_retry=True, AccountId=self.account, BudgetName=self.name)
            except is_boto3_error_code("NotFoundException"):
                pass
        return True


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "limit_usd": {"type": "float"},
            "time_unit": {"type": "str", "choices": ["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"], "default": "MONTHLY"},
            "cost_filters": {"type": "dict", "default": {}},
            "notifications": {"type": "list", "elements": "dict", "default": [], "options": {
                "spend": {"type": "str", "choices": ["ACTUAL", "FORECASTED"], "default": "ACTUAL"},
                "threshold": {"type": "float", "required": True},
                "comparison": {"type": "str", "choices": ["GREATER_THAN", "LESS_THAN", "EQUAL_TO"],
                               "default": "GREATER_THAN"},
            }},
            "sns_topic_arn": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ["limit_usd"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "present":
        if params["limit_usd"] <= 0:
            module.fail_json(msg=f"limit_usd must be more than 0 (got {params['limit_usd']})")
        if params["notifications"] and not params["sns_topic_arn"]:
            module.fail_json(msg="sns_topic_arn is required when notifications are given (got none)")
        for item in params["notifications"]:
            if item["threshold"] <= 0:
                module.fail_json(msg=f"notifications: threshold must be a percentage above 0 (got {item['threshold']})")
    try:
        budget = Budget(module)
        if params["state"] == "absent":
            module.exit_json(changed=budget.absent(), budget=None, notifications=[])
        changed, before, after = budget.present()
        if budget.unchanged:
            found, notifications = budget.unchanged
        elif module.check_mode:
            found, notifications = budget.wanted(), []
        else:
            found, notifications = budget.read(), budget.notifications()
        result = {"changed": changed, "budget": found, "notifications": notifications}
        if changed:
            result["diff"] = {"before": before, "after": after}
        module.exit_json(**result)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not converge the budget {params['name']}")


if __name__ == "__main__":
    main()

"""AWS Budgets in the emulator: what moto 5.2 lacks of the API the toolkit's budget module calls.

After the AWS Budgets API reference (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_Operations_AWS_Budgets.html):
- UpdateBudget: replaces the budget named by ``NewBudget.BudgetName``; ``NotFoundException`` when
  there is none. Its notifications are kept.
- DescribeSubscribersForNotification, CreateSubscriber, DeleteSubscriber: a notification's
  subscribers; ``NotFoundException`` for a budget or notification that does not exist,
  ``DuplicateRecordException`` for a subscriber it already has.
- DescribeNotificationsForBudget: ``NotFoundException`` for a budget that does not exist (moto
  answers an internal error).
"""

from __future__ import annotations

import json


def install() -> None:
    from moto.budgets.exceptions import DuplicateRecordException, NotFoundException
    from moto.budgets.models import BudgetsBackend
    from moto.budgets.responses import BudgetsResponse
    from moto.core.utils import unix_time

    def budget_of(backend, account_id, name, what):
        budget = backend.budgets[account_id].get(name)
        if budget is None:
            raise NotFoundException(f"Unable to {what} - the budget {name} doesn't exist.")
        return budget

    def notification_of(budget, details):
        wanted = _notification_key(details)
        for item in budget.notifications:
            if _notification_key(item.details) == wanted:
                return item
        raise NotFoundException("Unable to find the notification - it doesn't exist.")

    def update_budget(self):
        account_id = self._get_param("AccountId")
        new = self._get_param("NewBudget")
        budget = budget_of(self.backend, account_id, new["BudgetName"], "update budget")
        kept = {k: budget.budget[k] for k in ("TimePeriod",) if k in budget.budget and k not in new}
        budget.budget = {**new, **kept, "LastUpdatedTime": unix_time()}
        return json.dumps({})

    def describe_notifications_for_budget(self):
        account_id = self._get_param("AccountId")
        budget = budget_of(self.backend, account_id, self._get_param("BudgetName"), "describe notifications")
        return json.dumps({"Notifications": budget.get_notifications()})

    def describe_subscribers_for_notification(self):
        budget = budget_of(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"),
                           "describe subscribers")
        item = notification_of(budget, self._get_param("Notification"))
        return json.dumps({"Subscribers": list(item.subscribers)})

    def create_subscriber(self):
        budget = budget_of(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"),
                           "create subscriber")
        item = notification_of(budget, self._get_param("Notification"))
        subscriber = self._get_param("Subscriber")
        if subscriber in item.subscribers:
            raise DuplicateRecordException(record_type="subscriber", record_name=subscriber["Address"])
        item.subscribers = [*item.subscribers, subscriber]
        return json.dumps({})

    def delete_subscriber(self):
        budget = budget_of(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"),
                           "delete subscriber")
        item = notification_of(budget, self._get_param("Notification"))
        subscriber = self._get_param("Subscriber")
        if subscriber not in item.subscribers:
            raise NotFoundException(f"Unable to delete subscriber {subscriber.get('Address')} - it doesn't exist.")
        item.subscribers = [s for s in item.subscribers if s != subscriber]
        return json.dumps({})

    def delete_notification(self, account_id, budget_name, notification):
        budget = budget_of(self, account_id, budget_name, "delete notification")
        notification_of(budget, notification)
        wanted = _notification_key(notification)
        budget.notifications = [n for n in budget.notifications if _notification_key(n.details) != wanted]

    BudgetsResponse.update_budget = update_budget
    BudgetsResponse.describe_notifications_for_budget = describe_notifications_for_budget
    BudgetsResponse.describe_subscribers_for_notification = describe_subscribers_for_notification
    BudgetsResponse.create_subscriber = create_subscriber
    BudgetsResponse.delete_subscriber = delete_subscriber
    BudgetsBackend.delete_notification = delete_notification


def _notification_key(details: dict) -> tuple:
    """A notification is identified by its type, comparison, threshold and threshold type
    (Budgets API reference, Notification); NotificationState is AWS's, not the caller's."""
    return (details.get("NotificationType"), details.get("ComparisonOperator"), float(details.get("Threshold", 0)),
            details.get("ThresholdType", "PERCENTAGE"))

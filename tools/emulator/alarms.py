"""CloudWatch metric alarms evaluated as CloudWatch does, on the emulator's clock (clock.py).

Each minute of emulated time, every metric alarm of every region is evaluated over its last
``EvaluationPeriods`` complete periods (CloudWatch UG "Using Amazon CloudWatch alarms",
"Evaluating an alarm"):

- the alarm's statistic (or extended statistic, pNN) of each period, from the AWS-published
  metrics (metrics.py) or the ones clients put;
- ALARM when at least ``DatapointsToAlarm`` (default: EvaluationPeriods) of them breach the
  threshold; missing periods count as ``TreatMissingData`` says: ``missing`` (the default: not
  counted, and fewer datapoints than DatapointsToAlarm that all breach still alarm; all missing
  gives INSUFFICIENT_DATA), ``notBreaching`` (good), ``breaching`` (bad), ``ignore`` (the state
  is kept while fewer datapoints than DatapointsToAlarm are there) - CloudWatch UG,
  "Configuring how CloudWatch alarms treat missing data";
- on a change of state, the actions of the new state run: an SNS topic is sent CloudWatch's
  notification (JSON: AlarmName, NewStateValue, NewStateReason, OldStateValue, Trigger...);
  an Auto Scaling policy is invoked, and again once per minute while the alarm stays in ALARM
  (CloudWatch UG, "Alarm actions": Auto Scaling actions are the exception to actions running only
  on a change of state). Not when ActionsEnabled is false.

Not modelled: metric-math alarms (their state does not change), composite alarms, anomaly
detection, and the look-back beyond the evaluation range that CloudWatch applies to missing data.
Every notification is kept for ``GET /_emulator/notifications``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

import clock
import metrics

log = logging.getLogger("awsemu.alarms")

COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
WORDS = {"GreaterThanThreshold": "greater than", "GreaterThanOrEqualToThreshold": "greater than or equal to",
         "LessThanThreshold": "less than", "LessThanOrEqualToThreshold": "less than or equal to"}


class Notifications:
    """What the evaluator sent: SNS messages by topic and the policies it invoked, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[dict] = []

    def add(self, entry: dict) -> None:
        with self.lock:
            self.sent.append(entry)

    def listing(self) -> list[dict]:
        with self.lock:
            return list(self.sent)

    def clear(self) -> None:
        with self.lock:
            self.sent.clear()


NOTIFICATIONS = Notifications()


def _backends():
    from moto.cloudwatch.models import cloudwatch_backends

    for account, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


def datapoints(alarm, end: float, account: str, region: str) -> list[float | None]:
    """The alarm's statistic for each of its last EvaluationPeriods periods before ``end``
    (oldest first), None where a period has no data."""
    dimensions = {d.name: d.value for d in alarm.dimensions}
    return values(alarm.namespace, alarm.metric_name, alarm.extended_statistic or alarm.statistic, dimensions,
                  int(alarm.period or 60), int(alarm.evaluation_periods or 1), end, account, region)


def values(namespace: str, name: str, stat: str, dimensions: dict, period: int, periods: int, end: float,
           account: str, region: str) -> list[float | None]:
    """A metric's statistic over the ``periods`` complete periods before ``end``, oldest first."""
    last = int(end // period * period)
    start = last - periods * period
    if namespace in metrics.PUBLISHED:
        found = metrics.STORE.statistics(namespace, name, dimensions, start, last, period, [stat])
        by_time = {int(p["Timestamp"].timestamp()): p["values"].get(stat) for p in found}
    else:
        by_time = _client_metrics(namespace, name, stat, dimensions, start, last, period, account, region)
    return [by_time.get(start + i * period) for i in range(periods)]


def _client_metrics(namespace, name, stat, dimensions, start, end, period, account, region) -> dict[int, float | None]:
    """Metrics a client put (moto keeps them), with exactly these dimensions."""
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[account][region]
    wanted = set(dimensions.items())
    buckets: dict[int, metrics.Aggregate] = {}
    for datum in list(backend.metric_data):
        if datum.namespace != namespace or datum.name != name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        stamp = datum.timestamp if datum.timestamp.tzinfo else datum.timestamp.replace(tzinfo=dt.UTC)
        moment = stamp.timestamp()
        if not start <= moment < end:
            continue
        bucket = buckets.setdefault(int(moment // period * period), metrics.Aggregate())
        if hasattr(datum, "value"):
            bucket.add(datum.value, keep=True)
        else:
            partial = metrics.Aggregate()
            partial.count, partial.sum, partial.min, partial.max = datum.sample_count, datum.sum, datum.min, datum.max
            bucket.merge(partial)
    return {moment: aggregate.statistic(stat) for moment, aggregate in buckets.items()}


def decide(alarm, values: list[float | None]) -> tuple[str, str]:
    """The alarm's new state and CloudWatch's reason for it."""
    compare = COMPARE[alarm.comparison_operator]
    treat = alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods or 1)
    present = [v for v in values if v is not None]
    shown = ", ".join("missing" if v is None else f"{v:g}" for v in values)
    if not present and treat in ("missing", "ignore"):
        keep = alarm.state_value if treat == "ignore" else "INSUFFICIENT_DATA"
        return keep, f"Insufficient Data: {len(values)} datapoints were unknown."
    breaching = sum(1 for v in present if compare(v, alarm.threshold))
    if treat == "breaching":
        breaching += values.count(None)
    state = "ALARM" if breaching >= needed else "OK"
    if treat in ("missing", "ignore") and len(present) < needed:
        # Fewer datapoints than DatapointsToAlarm: all of them breaching is ALARM when missing
        # data is missing, the state is kept when it is ignored (the evaluation table of
        # "Configuring how CloudWatch alarms treat missing data", its row "- - X - -").
        if treat == "ignore":
            state = alarm.state_value
        elif breaching == len(present):
            state = "ALARM"
    word, old = WORDS[alarm.comparison_operator], alarm.state_value
    if state == "ALARM":
        return state, (f"Threshold Crossed: {breaching} out of the last {len(values)} datapoints [{shown}] were {word} "
                       f"the threshold ({alarm.threshold:g}) (minimum {needed} datapoint{'s' if needed > 1 else ''} "
                       f"for {old} -> ALARM transition).")
    return state, (f"Threshold Crossed: {len(values) - breaching} out of the last {len(values)} datapoints [{shown}] were "
                   f"not {word} the threshold ({alarm.threshold:g}) (minimum 1 datapoint for {old} -> OK transition).")


class Evaluator:
    """Evaluates every alarm at each emulated minute and runs their actions."""

    def __init__(self, invoke_policy):
        self.invoke_policy = invoke_policy  # (policy ARN, alarm) -> None: services/autoscaling.py
        self.stopping = threading.Event()
        self.last = int(clock.timestamp() // 60)

    def start(self) -> None:
        threading.Thread(target=self._loop, name="alarms", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()

    def _loop(self) -> None:
        while not self.stopping.wait(0.5):
            current = int(clock.timestamp() // 60)
            if current <= self.last:
                continue
            # A minute's datapoint is complete a moment after it ends (metrics.py flushes each
            # real second), as CloudWatch's own metrics arrive after their minute.
            if clock.timestamp() - current * 60 < min(30.0, 2 * clock.rate()):
                continue
            self.last = current
            try:
                self.evaluate(current * 60)
            except Exception:  # the loop must outlive one bad pass
                log.exception("alarm evaluation failed")

    def evaluate(self, end: float) -> None:
        for account, region, backend in _backends():
            for alarm in list(backend.alarms.values()):
                if getattr(alarm, "metric_data_queries", None) or not alarm.metric_name:
                    continue
                if alarm.comparison_operator not in COMPARE:
                    continue
                found = datapoints(alarm, end, account, region)
                state, reason = decide(alarm, found)
                old = alarm.state_value
                if state != old:
                    alarm.update_state(reason, json.dumps({"recentDatapoints": found, "threshold": alarm.threshold}),
                                       state)
                    alarm.state_updated_timestamp = clock.now().replace(tzinfo=None)
                    log.info("alarm %s: %s -> %s (%s)", alarm.name, old, state, reason)
                if not alarm.actions_enabled:
                    continue
                actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
                           "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[state] or []
                for arn in actions:
                    if ":autoscaling:" in arn:
                        self.invoke_policy(arn, alarm)  # every minute the state lasts
                    elif ":sns:" in arn and state != old:
                        self._notify(arn, alarm, old, region)

    @staticmethod
    def _notify(topic_arn: str, alarm, old: str, region: str) -> None:
        from moto.sns.models import sns_backends

        account = topic_arn.split(":")[4]
        message = {
            "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": account,
            "AlarmConfigurationUpdatedTimestamp": f"{alarm.configuration_updated_timestamp:%Y-%m-%dT%H:%M:%S.000+0000}",
            "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
            "StateChangeTime": f"{clock.now():%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "+0000",
            "Region": region, "AlarmArn": alarm.alarm_arn, "OldStateValue": old,
            "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                        "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
                        "Statistic": (alarm.statistic or "").upper() or None,
                        "ExtendedStatistic": alarm.extended_statistic,
                        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
                        "Period": alarm.period, "EvaluationPeriods": alarm.evaluation_periods,
                        "ComparisonOperator": alarm.comparison_operator, "Threshold": alarm.threshold,
                        "TreatMissingData": alarm.treat_missing_data or "missing"}}
        subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:100]
        text = json.dumps(message)
        try:
            sns_backends[account][topic_arn.split(":")[3]].publish(text, arn=topic_arn, subject=subject)
        except Exception as error:  # a deleted topic: CloudWatch drops the notification too
            log.warning("alarm %s: could not notify %s: %s", alarm.name, topic_arn, error)
            return
        NOTIFICATIONS.add({"topic": topic_arn, "subject": subject, "message": message})

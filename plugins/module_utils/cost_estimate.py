# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A month of an environment's declared stack, priced component by component (pure Python).

Inputs: the stack's settings (from the inventory), its traffic profile and the region's prices
(playbooks/vars/aws_prices.yml: every price with its source and date). A month is 730 hours, as
on AWS's pricing pages. EC2 instance-hours come from the scaling simulation of a quiet month
(the baseline day, 30 times) under the group's target tracking; everything else follows from
the sizes declared and the traffic (each line says its quantity, so every assumption shows).
List prices, on demand, no free tier, no Savings Plans, taxes excluded.
"""

from __future__ import annotations

HOURS = 730
DAYS = HOURS / 24
KIB_PER_GIB = 1024 * 1024
# Instance metrics of detailed monitoring (1-minute): 7 per instance (EC2 user guide, "Instance
# metrics"), each priced as a custom metric, prorated by the hour (CloudWatch pricing page).
DETAILED_METRICS = 7
# CloudFront keeps connections to the origin open; requests per new ALB connection assumed.
REQUESTS_PER_CONNECTION = 100


class PriceError(KeyError):
    def __str__(self):
        return self.args[0]


def _price(prices: dict, key: str, item: str | None = None, variable: str = "") -> float:
    entry = prices.get(key)
    if entry is None:
        raise PriceError(f"the price file has no '{key}' for this region")
    value = entry["usd"] if isinstance(entry, dict) and "usd" in entry else entry
    if item is None:
        return float(value)
    if item not in value:
        raise PriceError(f"{variable} '{item}' has no price under '{key}' for this region in the price file: add it, "
                         "with its source and date")
    return float(value[item])


def _line(component: str, item: str, quantity: float, unit: str, unit_price: float) -> dict:
    return {"component": component, "item": item, "quantity": round(quantity, 3), "unit": unit,
            "unit_price": unit_price, "monthly": round(quantity * unit_price, 2)}


def alb_lcu_hours(traffic: dict) -> float:
    """LCU-hours a month: each hour of the baseline day, the largest of its dimensions (ELB pricing
    page: 25 new connections/s, 3,000 active connections/min, 1 GB processed/h for EC2 targets,
    1,000 rule evaluations/s per LCU; 10 rules free), times the days of a month."""
    total = 0.0
    for rps in traffic["hourly_rps"]:
        processed_gb = rps * 3600 * (float(traffic.get("response_kib", 30)) + 2) / KIB_PER_GIB
        new_connections = rps / REQUESTS_PER_CONNECTION / 25
        active_connections = rps / REQUESTS_PER_CONNECTION * 60 / 3000
        total += max(processed_gb, new_connections, active_connections)
    return total * DAYS


def estimate(stack: dict, traffic: dict, prices: dict, ec2: dict) -> dict:
    """Lines and totals. ec2: month_instance_hours() of the scaling simulation."""
    lines = []
    add = lines.append
    instance_type = stack["instance_type"]
    average = ec2["average_instances"]
    add(_line("EC2", f"web instances {instance_type} (target tracking, quiet month: {average} on average, "
                     f"peak {ec2['peak_instances']})", ec2["instance_hours"], "instance-hour",
              _price(prices, "ec2_hour", instance_type, "compute_instance_type")))
    add(_line("EC2", f"root volumes gp3 {stack['root_volume_gib']} GiB", average * stack["root_volume_gib"], "GiB-month",
              _price(prices, "ebs_gp3_gib_month")))
    if stack.get("detailed_monitoring", True):
        add(_line("CloudWatch", "detailed monitoring (7 metrics an instance)", average * DETAILED_METRICS,
                  "metric-month", _price(prices, "cloudwatch_metric_month")))

    nats = stack["azs"] if stack["nat_mode"] == "per_az" else 1
    add(_line("NAT Gateway", f"{nats} gateway(s), {stack['nat_mode']}", nats * HOURS, "gateway-hour", _price(prices, "nat_hour")))
    add(_line("NAT Gateway", "data processed", float(traffic.get("nat_gib_per_month", 0)), "GB", _price(prices, "nat_gib")))
    add(_line("Public IPv4", f"{nats} NAT Elastic IP(s) + {stack['azs']} ALB address(es)", (nats + stack["azs"]) * HOURS,
              "address-hour", _price(prices, "public_ipv4_hour")))

    add(_line("ALB", "load balancer", HOURS, "hour", _price(prices, "alb_hour")))
    add(_line("ALB", "capacity units (largest dimension: processed bytes)", alb_lcu_hours(traffic), "LCU-hour",
              _price(prices, "alb_lcu_hour")))

    multi = 2 if stack["db_multi_az"] else 1
    deployment = "Multi-AZ: primary + standby" if multi == 2 else "Single-AZ"
    add(_line("RDS MySQL", f"{stack['db_class']} ({deployment})", HOURS * multi, "instance-hour",
              _price(prices, "rds_mysql_hour", stack["db_class"], "database_instance_class")))
    add(_line("RDS MySQL", f"gp3 storage {stack['db_storage_gib']} GiB x {multi}", stack["db_storage_gib"] * multi,
              "GiB-month", _price(prices, "rds_gp3_gib_month")))
    backups = float(traffic.get("db_used_gib", 0)) + float(traffic.get("db_daily_change_gib", 0)) * stack["db_backup_days"]
    add(_line("RDS MySQL", f"backups beyond the free 100 % of storage ({stack['db_backup_days']} days kept)",
              max(0.0, backups - stack["db_storage_gib"]), "GiB-month", _price(prices, "rds_backup_gib_month")))

    used, change = float(traffic.get("db_used_gib", 0)), float(traffic.get("db_daily_change_gib", 0))
    plan_days = int(stack.get("db_backup_plan_days", 0))
    if plan_days:
        # AWS Backup's RDS recovery points are RDS snapshots: the first holds the data, each later
        # one the day's changes (AWS Backup pricing page). Priced in full: whether they share RDS's
        # free backup allowance is not stated.
        add(_line("AWS Backup", f"daily recovery points of the DB instance, {plan_days} days kept", used + change * plan_days,
                  "GB-month", _price(prices, "backup_rds_gib_month")))
        copy_region = stack.get("db_backup_copy_region", "")
        if copy_region:
            copy_days = int(stack.get("db_backup_copy_days", plan_days))
            add(_line("AWS Backup", f"their copies in {copy_region}, {copy_days} days kept (at this region's rate)",
                      used + change * copy_days, "GB-month", _price(prices, "backup_rds_gib_month")))
            add(_line("AWS Backup", f"data transfer of the daily copies to {copy_region}", change * DAYS, "GB",
                      _price(prices, "inter_region_transfer_gib")))
    insight_days = int(stack.get("db_performance_insights_days", 0))
    if insight_days == 7:
        add(_line("RDS MySQL", "Performance Insights, 7 days of history (free)", 1, "instance", 0.0))
    elif insight_days:
        add(_line("RDS MySQL", f"Performance Insights, {insight_days} days of history", 1, "instance-month",
                  _price(prices, "rds_performance_insights_long_term_month")))
    interval = int(stack.get("db_monitoring_interval", 0))
    if interval:
        # Enhanced Monitoring's samples go to CloudWatch Logs (RDSOSMetrics), from the primary.
        gib = HOURS * 3600 / interval * float(traffic.get("db_os_metrics_kib_per_sample", 0)) / KIB_PER_GIB
        add(_line("RDS MySQL", f"Enhanced Monitoring: a sample every {interval} s into CloudWatch Logs", gib, "GB",
                  _price(prices, "cloudwatch_logs_ingest_gib")))

    if stack.get("cache_enabled"):
        nodes = int(stack.get("cache_nodes", 1))
        add(_line("ElastiCache", f"{nodes} x {stack['cache_node_type']} (Redis OSS)", HOURS * nodes, "node-hour",
                  _price(prices, "elasticache_hour", stack["cache_node_type"], "cache_node_type")))

    dynamic = sum(float(r) for r in traffic["hourly_rps"]) * 3600 * DAYS
    static = dynamic * float(traffic.get("static_per_dynamic", 0))
    hit = float(traffic.get("cdn_static_hit_ratio", 0.9))
    add(_line("S3", "static files stored", float(traffic.get("static_storage_gib", 0)), "GB-month",
              _price(prices, "s3_gib_month")))
    add(_line("S3", "GET from CloudFront (static cache misses)", static * (1 - hit) / 1000, "1,000 requests",
              _price(prices, "s3_get_1000")))
    transfer = (dynamic * float(traffic.get("response_kib", 30)) + static * float(traffic.get("static_kib", 0))) / KIB_PER_GIB
    tiers = prices.get("cloudfront_gib_tiers", {}).get("usd")
    if not tiers:
        raise PriceError("the price file has no 'cloudfront_gib_tiers' for this region")
    left = transfer
    for size, usd in tiers:
        part = left if size is None else min(left, float(size))
        if part <= 0:
            break
        label = "the rest" if size is None else f"tier of {float(size) / 1024:g} TB"
        add(_line("CloudFront", f"data transfer out to North America and Europe ({label})", part, "GB", float(usd)))
        left -= part
    add(_line("CloudFront", "HTTPS requests (dynamic + static)", (dynamic + static) / 10000, "10,000 requests",
              _price(prices, "cloudfront_https_10000")))

    add(_line("CloudWatch", f"alarms ({stack['alarms']} standard: the monitoring role's and target tracking's)",
              stack["alarms"], "alarm-month", _price(prices, "cloudwatch_alarm_month")))
    add(_line("CloudWatch", "dashboard", stack.get("dashboards", 1), "dashboard-month", _price(prices, "cloudwatch_dashboard_month")))
    logs = float(traffic.get("app_logs_gib_per_month", 0)) + (float(traffic.get("flow_logs_gib_per_month", 0))
                                                              if stack.get("flow_logs_enabled") else 0.0)
    add(_line("CloudWatch", "logs ingested (application + VPC flow logs)", logs, "GB", _price(prices, "cloudwatch_logs_ingest_gib")))
    add(_line("CloudWatch", f"logs stored ({stack['log_retention_days']} days kept)", logs * stack["log_retention_days"] / 30,
              "GB-month", _price(prices, "cloudwatch_logs_store_gib_month")))
    add(_line("Secrets Manager", "secrets", stack.get("secrets", 1), "secret-month", _price(prices, "secret_month")))
    # The stack's messages key; its requests are few (SNS and SQS reuse a data key for minutes).
    add(_line("KMS", "customer managed key (topics and queues)", stack.get("kms_keys", 1), "key-month",
              _price(prices, "kms_key_month")))
    if stack.get("messaging_enabled"):
        orders = float(traffic.get("orders_per_month", 0))
        add(_line("SQS/SNS", "order events: 3 SQS requests (send, receive, delete) an order", orders * 3 / 1e6,
                  "million requests", _price(prices, "sqs_million")))
        add(_line("SQS/SNS", "order events: 1 SNS publish an order", orders / 1e6, "million publishes",
                  _price(prices, "sns_million")))

    components: dict[str, float] = {}
    for line in lines:
        components[line["component"]] = round(components.get(line["component"], 0.0) + line["monthly"], 2)
    return {"lines": lines, "components": components, "total": round(sum(line["monthly"] for line in lines), 2)}


def markdown(title: str, estimate_: dict, notes: list[str]) -> str:
    out = [f"# {title}", "", "| component | item | quantity | unit | unit price (USD) | monthly (USD) |",
           "|---|---|---:|---|---:|---:|"]
    for line in estimate_["lines"]:
        out.append(f"| {line['component']} | {line['item']} | {line['quantity']:,.3f} | {line['unit']} | "
                   f"{line['unit_price']:g} | {line['monthly']:,.2f} |")
    out.append(f"| **total** | | | | | **{estimate_['total']:,.2f}** |")
    out += ["", "| component | monthly (USD) | share |", "|---|---:|---:|"]
    for name, value in sorted(estimate_["components"].items(), key=lambda kv: -kv[1]):
        share = value / estimate_["total"] if estimate_["total"] else 0
        out.append(f"| {name} | {value:,.2f} | {share:.1%} |")
    out += [""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(out)

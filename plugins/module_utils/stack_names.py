"""The names of the stack's resources, defined once.

Every role and playbook names what it creates or looks up through this function (the
``shop.aws.stack_names`` filter), and ``shop.aws.stack_info`` finds the stack's parts by
the same names: a name changed here changes everywhere at once.
"""

from __future__ import annotations

TIERS = ("public", "app", "db")
SECURITY_TIERS = ("alb", "web", "db", "cache")


def stack_names(stack):
    """Names of the resources of the stack ``stack`` (e.g. ``shop-production``)."""
    if not isinstance(stack, str) or not stack:
        raise ValueError(f"stack_names: the stack name must be a non-empty string (got {stack!r})")
    return {
        "stack": stack,
        # Application Load Balancer names are limited to 32 characters (validated by the roles).
        "load_balancer": stack,
        "target_group": f"{stack}-web",
        "auto_scaling_group": f"{stack}-web",
        "launch_template": f"{stack}-web",
        "web_role": f"{stack}-web",
        # The role RDS Enhanced Monitoring publishes the DB instance's OS metrics with.
        "db_monitoring_role": f"{stack}-rds-monitoring",
        "security_groups": {tier: f"{stack}-{tier}" for tier in SECURITY_TIERS},
        "db_instance": f"{stack}-mysql",
        "db_subnet_group": f"{stack}-db",
        "db_parameter_group": f"{stack}-mysql",
        "db_option_group": f"{stack}-mysql",
        "db_secret": f"{stack}/db",
        # The application's own database account (playbooks/database_app_user.yml).
        "db_app_secret": f"{stack}/db-app",
        "db_restore_instance": f"{stack}-mysql-restore",
        "db_restore_secret": f"{stack}/db-restore",
        # AWS Backup: the vault (the same name in the copy's region), the daily plan, the role.
        "backup_vault": f"{stack}-backup",
        "backup_plan": f"{stack}-daily",
        "backup_role": f"{stack}-backup",
        # The value CloudFront adds to every request to the ALB, which refuses requests without it.
        "origin_secret": f"{stack}/origin-verify",
        # The Redis replication group (its members <group>-001...), its parameter group, and its
        # AUTH token, which the web instances read.
        "cache_group": f"{stack}-redis",
        "cache_parameter_group": f"{stack}-redis",
        "cache_secret": f"{stack}/redis-auth",
        "order_queue": f"{stack}-orders",
        "order_dlq": f"{stack}-orders-dlq",
        "order_topic": f"{stack}-order-events",
        "alert_topic": f"{stack}-alerts",
        # The customer managed KMS key of the stack's topics and queues (CloudWatch alarms and
        # AWS Budgets cannot publish to a topic under the AWS managed key).
        "messages_key_alias": f"alias/{stack}-messages",
        "budget": f"{stack}-monthly",
        "dashboard": stack,
        "static_bucket": f"{stack}-static",
        # ALB access logs and CloudFront standard logs.
        "log_bucket": f"{stack}-logs",
        # CloudFront has no names: the distribution is created with this caller reference and
        # found (ListDistributions returns no caller reference) by this comment.
        "distribution_reference": stack,
        "distribution_comment": f"{stack} shop",
        "image_builder": f"{stack}-image-builder",
        "lock_parameter": f"/{stack}/lock",
    }

"""The emulator's extensions of moto, one module per AWS service.

Each module's ``install()`` patches moto in-process where it lacks an API the toolkit needs or
answers unlike AWS, every patch after the AWS API reference it names. ``realism`` (the
module beside this package) adds what real AWS does over time: lifecycles with latency, eventual
consistency, dependency violations, throttling and lost responses; each service module
installs its own part of it.
"""

from __future__ import annotations


def install() -> None:
    """Patch moto with every service's extensions. Imported lazily: moto is heavy."""
    from . import autoscaling, backup, budgets, cloudfront, ec2, elasticache, elbv2, iam, kms, rds, s3, secretsmanager

    for service in (ec2, iam, rds, elasticache, elbv2, cloudfront, autoscaling, s3, budgets, kms, secretsmanager, backup):
        service.install()

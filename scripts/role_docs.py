"""Write each role's README from its meta/argument_specs.yml (so the two never disagree).

Usage: python scripts/role_docs.py          # rewrite roles/*/README.md
       python scripts/role_docs.py --check  # fail when a README is out of date
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

ROLES = {
    "network": ("VPC with DNS support over 2-3 AZs; public, app and DB subnet tiers carved from the VPC CIDR "
                "(or given); Internet Gateway; NAT Gateways per AZ or shared, with their EIPs; route tables per tier; "
                "S3 gateway endpoint; optional VPC flow logs.",
                "ec2:*Vpc*, ec2:*Subnet*, ec2:*InternetGateway*, ec2:*NatGateway*, ec2:AllocateAddress, ec2:ReleaseAddress, "
                "ec2:*RouteTable*, ec2:*Route, ec2:*VpcEndpoint*, ec2:*FlowLogs, ec2:CreateTags, ec2:DeleteTags, ec2:Describe*, "
                "logs:*LogGroup*, logs:PutRetentionPolicy, iam:*Role*, iam:PassRole (flow logs)"),
    "security": ("Security groups chained by reference (ALB <- internet, web <- ALB, DB and cache <- web) and the "
                 "web instances' least-privilege IAM role and instance profile; the private bucket Ansible's SSM "
                 "Session Manager connection moves files through.",
                 "ec2:*SecurityGroup*, ec2:Describe*, iam:*Role*, iam:*RolePolicy, iam:*InstanceProfile*, "
                 "iam:AttachRolePolicy, iam:DetachRolePolicy, sts:GetCallerIdentity, s3:CreateBucket, s3:DeleteBucket, "
                 "s3:PutEncryptionConfiguration, s3:PutBucketPublicAccessBlock, s3:PutBucketOwnershipControls, "
                 "s3:PutLifecycleConfiguration, s3:PutBucketTagging, s3:Get* (bucket settings), s3:DeleteObject*"),
    "database": ("RDS for MySQL 8.4: subnet group, parameter group (utf8mb4, slow query log), Multi-AZ, gp3, "
                 "encryption, backups and windows, deletion protection, log exports. The master password is generated "
                 "once and kept only in Secrets Manager.",
                 "rds:*DBInstance*, rds:*DBSubnetGroup*, rds:*DBParameterGroup*, rds:ModifyDBParameterGroup, "
                 "rds:DescribeDBParameters, rds:AddTagsToResource, rds:ListTagsForResource, rds:CreateDBSnapshot, "
                 "secretsmanager:CreateSecret, secretsmanager:PutSecretValue, secretsmanager:GetSecretValue, "
                 "secretsmanager:DescribeSecret, secretsmanager:TagResource, secretsmanager:DeleteSecret"),
    "cache": ("Optional ElastiCache Redis node for PHP sessions, in the private data tier, reached only from the web group.",
              "elasticache:*CacheCluster*, elasticache:*CacheSubnetGroup*, ec2:Describe*"),
    "messaging": ("Optional SQS order queue with a dead-letter queue, subscribed to an SNS topic of order events.",
                  "sqs:*Queue*, sqs:SetQueueAttributes, sqs:TagQueue, sns:*Topic*, sns:Subscribe, sns:Unsubscribe, "
                  "sns:ListSubscriptionsByTopic, sns:TagResource"),
    "loadbalancer": ("Application Load Balancer in the public subnets, web target group with a /health check, "
                     "HTTP->HTTPS redirect and a TLS 1.3 policy when a certificate is given, invalid header dropping, "
                     "deletion protection per environment.",
                     "elasticloadbalancing:*, ec2:Describe*"),
    "cdn": ("Private static bucket (public access blocked, versioned, encrypted, old versions expired) behind "
            "CloudFront with Origin Access Control; the ALB as the dynamic origin; /static/* cached with the managed "
            "CachingOptimized policy, the rest not cached; HTTPS redirect, compression; bucket policy for that "
            "distribution only.",
            "s3:CreateBucket, s3:Put*/Get* bucket settings, s3:DeleteBucket, s3:ListBucket*, cloudfront:*Distribution*, "
            "cloudfront:*OriginAccessControl*, cloudfront:TagResource, cloudfront:UntagResource, cloudfront:ListTagsForResource, "
            "elasticloadbalancing:DescribeLoadBalancers"),
    "compute": ("Launch template (AMI from a variable or SSM, IMDSv2 only, encrypted gp3, instance profile, user data) "
                "and the Auto Scaling group over the app subnets with ELB health checks and target tracking on CPU and "
                "requests per target; publishes the settings the instances read at boot.",
                "ec2:*LaunchTemplate*, ec2:Describe*, ec2:RunInstances, iam:PassRole, autoscaling:*, ssm:GetParameter*, "
                "ssm:PutParameter, ssm:DeleteParameter, ssm:AddTagsToResource, elasticloadbalancing:Describe*"),
    "monitoring": ("SNS alert topic with email subscriptions; alarms on ALB and target 5xx, p95 response time, unhealthy "
                   "hosts, RDS CPU, free storage and connections, and the fleet at its maximum; a dashboard; log groups "
                   "with retention.",
                   "cloudwatch:PutMetricAlarm, cloudwatch:DescribeAlarms, cloudwatch:DeleteAlarms, cloudwatch:*Dashboard*, "
                   "logs:*LogGroup*, logs:PutRetentionPolicy, sns:*Topic*, sns:Subscribe, elasticloadbalancing:Describe*, "
                   "autoscaling:DescribeAutoScalingGroups"),
    "webstack": ("Host configuration of the web AMI (Debian 12): nginx (real client IP from the ALB's X-Forwarded-For, "
                 "JSON logs, /health) in front of PHP-FPM sized at boot from the instance's memory; the release "
                 "unpacked under releases/ with an atomic `current` switch; shop-configure, the boot-time unit that "
                 "reads the settings from SSM and the DB credentials from Secrets Manager; CloudWatch and SSM agents; "
                 "Amazon Time Sync; unattended security updates; SSH off or hardened; and a `cleanup` entry point run "
                 "just before the image is taken.",
                 "None at bake time except s3:GetObject on the release when `webstack_release_source: s3`. At boot, "
                 "through the instance role (security role): ssm:GetParametersByPath on /<stack>/app/*, "
                 "secretsmanager:GetSecretValue on the stack's DB secret, the CloudWatch agent's and SSM core's actions."),
    "web_image": ("The web AMI's life: finds the base image (Debian's official one, or the local base container's "
                  "stand-in), bakes only when the inputs changed (the webstack role, the release, the base image, the "
                  "webstack_* settings), launches the builder, takes the image tagged with version, commit, date and "
                  "inputs digest, terminates the builder whatever happens, publishes the AMI ID to SSM and deregisters "
                  "the images (and snapshots) beyond the newest N. Locally the builder is a podman container and the "
                  "container image is tagged with the emulated AMI ID.",
                  "ec2:DescribeImages, ec2:CreateImage, ec2:RegisterImage, ec2:DeregisterImage, ec2:DeleteSnapshot, "
                  "ec2:RunInstances, ec2:TerminateInstances, ec2:DescribeInstances, ec2:CreateTags, "
                  "ec2:DescribeSubnets, iam:PassRole (the builder's profile), ssm:PutParameter, ssm:GetParameter, "
                  "ssm:DeleteParameter, ssm:AddTagsToResource, ssm:StartSession and s3 on the transfer bucket (ec2 builder)"),
    "rollout": ("Rolls the web Auto Scaling group onto a new AMI: a launch-template version with it (compute role), "
                "an instance refresh towards that version (launch before terminate by default, warm-up, checkpoints, "
                "skip matching, auto rollback on the monitoring role's alarms) with a progress line per change, then a "
                "check that every instance runs the AMI and is healthy behind the load balancer. On failure or timeout "
                "the refresh is rolled back to the previous version, the AMI parameter names the serving AMI again, "
                "and the run fails.",
                "autoscaling:DescribeAutoScalingGroups, autoscaling:StartInstanceRefresh, "
                "autoscaling:DescribeInstanceRefreshes, autoscaling:CancelInstanceRefresh, "
                "autoscaling:RollbackInstanceRefresh, ec2:CreateLaunchTemplateVersion, ec2:DescribeLaunchTemplates, "
                "ec2:DescribeLaunchTemplateVersions, ec2:DescribeImages, ec2:DescribeInstances, iam:PassRole, "
                "cloudwatch:DescribeAlarms, elasticloadbalancing:DescribeTargetGroups, "
                "elasticloadbalancing:DescribeTargetHealth, ssm:GetParameter, ssm:PutParameter"),
    "maintenance": ("Fleet maintenance over the dynamic EC2 inventory: patch (each instance to Auto Scaling Standby, "
                    "drained from the target groups, apt upgrade, reboot when needed, own health check, back in service "
                    "once the load balancer finds it healthy; a failure leaves it in Standby and stops the run), "
                    "restart a service the same way, run an ad hoc command, collect logs (one folder per instance, "
                    "named by ID and AZ).",
                    "From the control machine: autoscaling:DescribeAutoScalingGroups, autoscaling:EnterStandby, "
                    "autoscaling:ExitStandby, elasticloadbalancing:DescribeTargetGroups, "
                    "elasticloadbalancing:DescribeTargetHealth; and the connection's (ssm:StartSession and the "
                    "transfer bucket on AWS)."),
    "migrate_db": ("Moves MySQL databases into the stack's RDS instance from a migration host: preflight (versions, "
                   "engines, definers, collations, size against free storage, binary log settings; blockers stop the "
                   "run before any write), a consistent dump (mydumper, or mysqldump) loaded in units that a resumed run "
                   "reloads whole, replication from the snapshot's position (RDS's procedures or the standard "
                   "statements), chunked checksums of every table, and a cutover (source read-only, caught up, "
                   "verified, the application's setting pointed at RDS) undone on any failure. Reports in Markdown "
                   "and JSON.",
                   "From the control machine: secretsmanager:GetSecretValue (the target's secret), "
                   "rds:DescribeDBInstances, ssm:GetParameter and ssm:PutParameter (the application's setting, at "
                   "the cutover). On the databases: see docs/migration.md."),
    "stack_lock": ("One run at a time per stack: the lock is an SSM parameter created only if absent, naming its "
                   "holder (user, host, process), since when and until when. A second run is refused at once with "
                   "that; a lock whose holder's process is gone on this host, or that expired, is taken over; any "
                   "lock can be broken by its ID (playbooks/unlock.yml).",
                   "ssm:GetParameter, ssm:PutParameter, ssm:DeleteParameter"),
}

# Roles run by their own playbooks: their own example and tags.
HOST_EXAMPLES = {
    "web_image": ["# playbooks/bake_ami.yml: three plays around the builder", "- name: Prepare the bake and launch the builder",
                  "  hosts: localhost", "  vars_files: [vars/stack.yml]", "  tasks:",
                  "    - ansible.builtin.include_role: {name: shop.aws.web_image}", "# ... the builder play applies webstack ...",
                  "- name: Take the image", "  hosts: localhost", "  vars_files: [vars/stack.yml]", "  tasks:",
                  "    - ansible.builtin.include_role: {name: shop.aws.web_image, tasks_from: finish}"],
    "rollout": ["# playbooks/rolling_update.yml", "- name: Roll the web fleet onto a new AMI", "  hosts: localhost",
                "  vars_files: [vars/stack.yml]", "  tasks:", "    - ansible.builtin.import_role: {name: shop.aws.rollout}"],
    "maintenance": ["# playbooks/maintenance/patch.yml (restart, command, collect_logs alike)",
                    "- name: Patch the web fleet in batches", "  hosts: \"{{ target | default('role_web') }}\"",
                    "  serial: \"{{ maintenance_serial | default(1) }}\"",
                    "  max_fail_percentage: \"{{ maintenance_max_fail_percentage | default(0) }}\"",
                    "  vars_files: [../vars/stack.yml]", "  tasks:",
                    "    - ansible.builtin.import_role: {name: shop.aws.maintenance, tasks_from: patch}"],
    "webstack": ["- name: Configure the web stack", "  hosts: builder", "  become: true", "  roles:",
                 "    - role: shop.aws.webstack", "      vars:", "        webstack_release_version: 1.0.0-abc1234",
                 "        webstack_release_file: build/shop-1.0.0-abc1234.tar.gz",
                 "        webstack_trusted_proxy_cidrs: [10.20.0.0/16]"],
    "stack_lock": ["# site.yml, playbooks/destroy.yml: the lock around the run's changes", "  tasks:",
                   "    - ansible.builtin.import_role: {name: shop.aws.stack_lock}", "    - block:",
                   "        - ansible.builtin.import_role: {name: shop.aws.network}", "      always:",
                   "        - ansible.builtin.import_role: {name: shop.aws.stack_lock, tasks_from: release}"],
    "migrate_db": ["# playbooks/migrate_db.yml", "- name: Migrate the database into RDS",
                   "  hosts: \"{{ migrate_db_host | default('migration') }}\"", "  gather_facts: false",
                   "  vars_files: [vars/stack.yml]", "  tasks:", "    - ansible.builtin.import_role: {name: shop.aws.migrate_db}"],
}


def render(role, purpose, iam):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta/argument_specs.yml").read_text())["argument_specs"]
    options = specs["main"]["options"]
    lines = [f"# Role `{role}`", "", purpose, "",
             "Generated from `meta/argument_specs.yml` by `scripts/role_docs.py`; defaults with comments are in "
             "`defaults/main.yml`.", "",
             "## IAM actions it needs", "", iam, "", "## Variables", "",
             "| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, spec in options.items():
        default = spec.get("default", "required" if spec.get("required") else "")
        kind = spec.get("type", "str") + (f" of {spec['elements']}" if spec.get("elements") else "")
        if spec.get("choices"):
            kind += " (" + ", ".join(map(str, spec["choices"])) + ")"
        description = spec.get("description", "")
        description = " ".join(description) if isinstance(description, list) else description
        lines.append(f"| `{name}` | {kind} | `{default}` | {description} |".replace("``", ""))
    entry_points = [f"`{name}` ({spec['short_description']})" for name, spec in specs.items() if name not in ("main", "validate")]
    if role in HOST_EXAMPLES:
        main_text = {"web_image": "prepares a bake and launches the builder, or removes the images",
                     "stack_lock": "takes the lock"}.get(role, "configures the host")
        lines += ["", "## Entry points", "", "`main` " + main_text + ("" if role == "stack_lock" else "; `validate` checks the settings only")
                  + (". Also: " + "; ".join(entry_points) if entry_points else "") + ".",
                  "", "## Example", "", "```yaml", *HOST_EXAMPLES[role], "```", "",
                  "## Tags", "", ("Its tasks run under every tag (`always`): a run of one part takes the lock too."
                                  if role == "stack_lock" else tags_line(role)), ""]
        return "\n".join(lines)
    lines += ["", "## Entry points", "", "`main` builds or removes the part; `validate` checks the settings only (site.yml "
              "runs it for every role before any AWS call)" + (". Also: " + "; ".join(entry_points) if entry_points else "") + ".",
              "", "## Example", "", "```yaml", f"- name: Build the {role} part", "  hosts: localhost", "  gather_facts: false",
              "  vars_files: [playbooks/vars/stack.yml]", "  roles:", f"    - role: shop.aws.{role}", "```", "",
              "## Tags", "", tags_line(role), ""]
    return "\n".join(lines)


def tags_line(role: str) -> str:
    """Where the role runs under its tag, read from the playbooks themselves."""
    playbooks = sorted(str(path.relative_to(ROOT)) for path in [ROOT / "site.yml", *(ROOT / "playbooks").rglob("*.yml")]
                       if f"role::{role}]" in path.read_text())
    if not playbooks:
        return f"No playbook of the collection runs it under a tag; give it `role::{role}` in yours."
    return "In " + ", ".join(f"`{name}`" for name in playbooks) + f" this role runs under the tag `role::{role}`."


def main():
    stale = []
    for role, (purpose, iam) in ROLES.items():
        path = ROOT / "roles" / role / "README.md"
        text = render(role, purpose, iam)
        if "--check" in sys.argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
    if stale:
        sys.exit("out of date (run python scripts/role_docs.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()

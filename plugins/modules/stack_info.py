#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: stack_info
short_description: Read the whole shop stack in one call
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Finds every part of one stack by its C(Stack) tag and by the names of
    C(shop.aws.stack_names), and returns them in one structure - the VPC, the subnets by tier
    and Availability Zone, the security groups by tier, the Internet and NAT Gateways, the S3
    gateway endpoint, the load balancer and the web target group with their CloudWatch labels,
    the Auto Scaling group, the database, the cache node, the distribution and the topics -
    with the list of the parts that do not exist, and what the network role compares (tags,
    DNS attributes, route tables) to leave alone the parts already as set.
  - The roles read the stack with this module once, instead of one look-up per resource
    in every role.
  - Reads only, and runs the same in check mode.
options:
  stack:
    description: Name of the stack (the value of its resources' C(Stack) tag).
    type: str
    required: true
  vpc_cidr:
    description:
      - CIDR block of the stack's VPC. When set, only the VPC with this block is the stack's.
      - Without it, a stack with more than one tagged VPC is refused, naming them.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the stack
  shop.aws.stack_info:
    stack: shop-production
  register: stack_read

- name: Create the DB subnet group over the DB tier
  amazon.aws.rds_subnet_group:
    name: "{{ stack_read.stack.names.db_subnet_group }}"
    description: shop-production database subnets
    subnets: "{{ stack_read.stack.subnet_ids.db }}"
    state: present
"""

RETURN = r"""
stack:
  description: The stack's parts. A part that does not exist is an empty dict, list or string.
  returned: always
  type: dict
  contains:
    name:
      description: The stack's name.
      type: str
      sample: shop-production
    names:
      description: The names of the stack's resources (C(shop.aws.stack_names)).
      type: dict
      sample: {"auto_scaling_group": "shop-production-web", "db_instance": "shop-production-mysql"}
    vpc:
      description:
        - The VPC - C(id), C(cidr_block), C(state), C(owner_id) (the account that owns it), C(tags),
          C(dns_support), C(dns_hostnames).
      type: dict
      sample: {"id": "vpc-0123456789abcdef0", "cidr_block": "10.20.0.0/16", "state": "available", "owner_id": "123456789012"}
    subnets:
      description:
        - The subnets by tier (C(public), C(app), C(db); C(other) for those tagged with the stack
          but with no known C(Tier) tag), each a list sorted by Availability Zone of C(id),
          C(cidr_block), C(availability_zone), C(map_public_ip_on_launch), C(tags).
      type: dict
    subnet_ids:
      description: The subnet IDs by tier, sorted by Availability Zone.
      type: dict
      sample: {"public": ["subnet-1", "subnet-2"], "app": ["subnet-3", "subnet-4"], "db": []}
    security_groups:
      description: The security groups by tier (C(alb), C(web), C(db), C(cache)), each C(id) and C(name).
      type: dict
    security_group_ids:
      description: The security group ID of each tier.
      type: dict
      sample: {"alb": "sg-1", "web": "sg-2"}
    internet_gateway:
      description: The Internet Gateway attached to the VPC (C(id), C(tags)).
      type: dict
    internet_gateway_id:
      description: Its ID.
      type: str
    route_tables:
      description:
        - The VPC's route tables tagged with the stack, each C(id), C(name) (its C(Name) tag), C(tags),
          C(subnet_ids) (sorted) and C(routes) (C(dest) with C(gateway_id) or C(nat_gateway_id); the
          local route and gateway endpoints' prefix-list routes left out).
      type: list
      elements: dict
    nat_gateways:
      description:
        - The VPC's NAT Gateways that are pending or available, each C(id), C(state),
          C(subnet_id), C(allocation_ids), C(tags).
      type: list
      elements: dict
    s3_endpoint_id:
      description: The VPC's S3 gateway endpoint (pending or available).
      type: str
    load_balancer:
      description:
        - The Application Load Balancer - C(arn), C(name), C(dns_name), C(state) and
          C(label), its C(LoadBalancer) dimension in CloudWatch (C(app/NAME/ID)).
      type: dict
    target_group:
      description:
        - The web target group - C(arn), C(name) and C(label), its C(TargetGroup) dimension in
          CloudWatch (C(targetgroup/NAME/ID)).
      type: dict
    request_count_label:
      description:
        - The resource label of the C(ALBRequestCountPerTarget) metric
          (load balancer label / target group label), empty unless both exist.
      type: str
    auto_scaling_group:
      description:
        - The web Auto Scaling group - C(name), C(min_size), C(max_size), C(desired_capacity),
          C(launch_template_version), C(instances) (the count).
      type: dict
    database:
      description:
        - The RDS instance - C(identifier), C(status), C(address), C(port), C(master_username), C(db_name)
          (the two RDS fixes at creation).
      type: dict
    cache:
      description:
        - The ElastiCache replication group - C(id), C(status), C(address) (the primary endpoint), C(port), C(nodes).
        - Without one, a single-node cluster an older toolkit built under that name, as C(legacy) (C(id), C(status)).
      type: dict
    distribution:
      description: The CloudFront distribution - C(id), C(arn), C(domain_name), C(status).
      type: dict
    alert_topic_arn:
      description: The ARN of the alert topic.
      type: str
    order_topic_arn:
      description: The ARN of the order events' topic.
      type: str
    missing:
      description: The parts not found, by their key in this structure (C(subnets.app), C(security_groups.db)).
      type: list
      elements: str
      sample: ["auto_scaling_group", "distribution"]
"""

from concurrent.futures import ThreadPoolExecutor

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.shop.aws.plugins.module_utils.stack_names import SECURITY_TIERS
from ansible_collections.shop.aws.plugins.module_utils.stack_names import TIERS
from ansible_collections.shop.aws.plugins.module_utils.stack_names import stack_names

# The read-only calls run concurrently: on AWS each is a round trip of 50-300 ms.
WORKERS = 6


class StackError(Exception):
    """The stack cannot be read as one stack."""


def _tags(resource):
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags") or []}


class StackReader:
    def __init__(self, module, stack, vpc_cidr=None):
        self.module = module
        self.stack = stack
        self.vpc_cidr = vpc_cidr
        self.names = stack_names(stack)
        self._clients = {}

    def client(self, service):
        # Clients are created in the main thread (botocore's session is not thread-safe while
        # it loads models); their calls are.
        if service not in self._clients:
            self._clients[service] = calls.client(self.module, service)
        return self._clients[service]

    # -- the network: one VPC, then everything in it ------------------------------------
    def vpc(self):
        filters = [{"Name": "tag:Stack", "Values": [self.stack]}]
        if self.vpc_cidr:
            filters.append({"Name": "cidr-block-association.cidr-block", "Values": [self.vpc_cidr]})
        vpcs = self.client("ec2").describe_vpcs(aws_retry=True, Filters=filters)["Vpcs"]
        if len(vpcs) > 1:
            found = ", ".join(f"{vpc['VpcId']} ({vpc['CidrBlock']})" for vpc in vpcs)
            raise StackError(
                f"More than one VPC carries the tag Stack={self.stack}: {found}. The stack is one VPC; "
                f"set vpc_cidr to pick one, or remove the one the stack no longer uses."
            )
        if not vpcs:
            return {}
        # The stack's VPC is created by the stack's account (not shared): its owner is that account.
        return {"id": vpcs[0]["VpcId"], "cidr_block": vpcs[0]["CidrBlock"], "state": vpcs[0]["State"],
                "owner_id": vpcs[0]["OwnerId"], "tags": _tags(vpcs[0])}

    def vpc_dns(self, vpc_id):
        ec2 = self.client("ec2")
        return {
            "dns_support": ec2.describe_vpc_attribute(
                aws_retry=True, VpcId=vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"],
            "dns_hostnames": ec2.describe_vpc_attribute(
                aws_retry=True, VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"],
        }

    def _in_vpc(self, vpc_id, *extra):
        return [{"Name": "vpc-id", "Values": [vpc_id]}, *extra]

    def subnets(self, vpc_id):
        found = calls.paginate(self.client("ec2"), "describe_subnets",
                               Filters=self._in_vpc(vpc_id, {"Name": "tag:Stack", "Values": [self.stack]}))["Subnets"]
        by_tier = {tier: [] for tier in (*TIERS, "other")}
        for subnet in found:
            tags = _tags(subnet)
            tier = tags["Tier"] if tags.get("Tier") in TIERS else "other"
            by_tier[tier].append({
                "id": subnet["SubnetId"],
                "cidr_block": subnet["CidrBlock"],
                "availability_zone": subnet["AvailabilityZone"],
                "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
                "tags": tags,
            })
        return {tier: sorted(rows, key=lambda row: (row["availability_zone"], row["cidr_block"]))
                for tier, rows in by_tier.items()}

    def security_groups(self, vpc_id):
        found = calls.paginate(self.client("ec2"), "describe_security_groups",
                               Filters=self._in_vpc(vpc_id, {"Name": "tag:Stack", "Values": [self.stack]}))["SecurityGroups"]
        groups = {}
        for group in found:
            tier = _tags(group).get("Tier")
            if tier in SECURITY_TIERS:
                groups[tier] = {"id": group["GroupId"], "name": group["GroupName"]}
        return groups

    def internet_gateway(self, vpc_id):
        gateways = self.client("ec2").describe_internet_gateways(
            aws_retry=True, Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]
        return {"id": gateways[0]["InternetGatewayId"], "tags": _tags(gateways[0])} if gateways else {}

    def route_tables(self, vpc_id):
        found = calls.paginate(self.client("ec2"), "describe_route_tables",
                               Filters=self._in_vpc(vpc_id, {"Name": "tag:Stack", "Values": [self.stack]}))["RouteTables"]
        tables = []
        for table in found:
            routes = []
            for route in table.get("Routes") or []:
                # The local route is the VPC's own, and a gateway endpoint's prefix-list route
                # belongs to the endpoint: neither is the route table's setting.
                if route.get("GatewayId") == "local" or "DestinationPrefixListId" in route:
                    continue
                target = {key: route[field] for key, field in (("gateway_id", "GatewayId"),
                                                               ("nat_gateway_id", "NatGatewayId")) if field in route}
                routes.append(dict(target, dest=route.get("DestinationCidrBlock", "")))
            tags = _tags(table)
            tables.append({
                "id": table["RouteTableId"], "name": tags.get("Name", ""), "tags": tags,
                "subnet_ids": sorted(association["SubnetId"] for association in table.get("Associations") or []
                                     if association.get("SubnetId")),
                "routes": sorted(routes, key=lambda route: route["dest"]),
            })
        return sorted(tables, key=lambda table: table["name"])

    def nat_gateways(self, vpc_id):
        found = calls.paginate(self.client("ec2"), "describe_nat_gateways",
                               Filter=self._in_vpc(vpc_id, {"Name": "state", "Values": ["pending", "available"]}))["NatGateways"]
        return sorted(
            ({"id": nat["NatGatewayId"], "state": nat["State"], "subnet_id": nat["SubnetId"],
              "allocation_ids": [address.get("AllocationId", "") for address in nat.get("NatGatewayAddresses") or []],
              "tags": _tags(nat)}
             for nat in found),
            key=lambda nat: nat["subnet_id"],
        )

    def s3_endpoint_id(self, vpc_id):
        region = self.module.region
        endpoints = self.client("ec2").describe_vpc_endpoints(aws_retry=True, Filters=self._in_vpc(
            vpc_id,
            {"Name": "service-name", "Values": [f"com.amazonaws.{region}.s3"]},
            {"Name": "vpc-endpoint-state", "Values": ["pending", "available"]},
        ))["VpcEndpoints"]
        return endpoints[0]["VpcEndpointId"] if endpoints else ""

    # -- the parts found by name ----------------------------------------------------------
    def load_balancer(self):
        try:
            found = self.client("elbv2").describe_load_balancers(
                aws_retry=True, Names=[self.names["load_balancer"]])["LoadBalancers"]
        except is_boto3_error_code("LoadBalancerNotFound"):
            return {}
        alb = found[0]
        return {"arn": alb["LoadBalancerArn"], "name": alb["LoadBalancerName"], "dns_name": alb["DNSName"],
                "state": alb.get("State", {}).get("Code", ""),
                "label": alb["LoadBalancerArn"].split(":loadbalancer/", 1)[-1]}

    def target_group(self):
        try:
            found = self.client("elbv2").describe_target_groups(
                aws_retry=True, Names=[self.names["target_group"]])["TargetGroups"]
        except is_boto3_error_code("TargetGroupNotFound"):
            return {}
        group = found[0]
        return {"arn": group["TargetGroupArn"], "name": group["TargetGroupName"],
                "label": group["TargetGroupArn"].rsplit(":", 1)[-1]}

    def auto_scaling_group(self):
        found = self.client("autoscaling").describe_auto_scaling_groups(
            aws_retry=True, AutoScalingGroupNames=[self.names["auto_scaling_group"]])["AutoScalingGroups"]
        if not found:
            return {}
        group = found[0]
        return {"name": group["AutoScalingGroupName"], "min_size": group["MinSize"], "max_size": group["MaxSize"],
                "desired_capacity": group["DesiredCapacity"],
                "launch_template_version": str((group.get("LaunchTemplate") or {}).get("Version", "")),
                "instances": len(group.get("Instances") or [])}

    def database(self):
        try:
            found = self.client("rds").describe_db_instances(
                aws_retry=True, DBInstanceIdentifier=self.names["db_instance"])["DBInstances"]
        except is_boto3_error_code("DBInstanceNotFound"):
            return {}
        instance = found[0]
        endpoint = instance.get("Endpoint") or {}
        return {"identifier": instance["DBInstanceIdentifier"], "status": instance["DBInstanceStatus"],
                "address": endpoint.get("Address", ""), "port": endpoint.get("Port", 0),
                "master_username": instance.get("MasterUsername", ""), "db_name": instance.get("DBName", "")}

    def cache(self):
        """The replication group; before it exists, a single-node cluster of an older toolkit as C(legacy)."""
        elasticache = self.client("elasticache")
        try:
            group = elasticache.describe_replication_groups(
                aws_retry=True, ReplicationGroupId=self.names["cache_group"])["ReplicationGroups"][0]
        except is_boto3_error_code("ReplicationGroupNotFoundFault"):
            try:
                legacy = elasticache.describe_cache_clusters(
                    aws_retry=True, CacheClusterId=self.names["cache_group"])["CacheClusters"][0]
            except is_boto3_error_code("CacheClusterNotFound"):
                return {}
            return {"legacy": {"id": legacy["CacheClusterId"], "status": legacy["CacheClusterStatus"]}}
        endpoint = ((group.get("NodeGroups") or [{}])[0]).get("PrimaryEndpoint") or {}
        return {"id": group["ReplicationGroupId"], "status": group["Status"],
                "address": endpoint.get("Address", ""), "port": endpoint.get("Port", 0),
                "nodes": len(group.get("MemberClusters") or [])}

    def distribution(self):
        listed = calls.paginate(self.client("cloudfront"), "list_distributions")
        for item in listed.get("DistributionList", {}).get("Items") or []:
            if item.get("Comment") == self.names["distribution_comment"]:
                return {"id": item["Id"], "arn": item["ARN"], "domain_name": item["DomainName"], "status": item["Status"]}
        return {}

    def topics(self):
        """The ARNs of the alert topic and of the order events' topic."""
        wanted = {":" + self.names["alert_topic"]: "alert_topic_arn", ":" + self.names["order_topic"]: "order_topic_arn"}
        found = dict.fromkeys(wanted.values(), "")
        for topic in calls.paginate(self.client("sns"), "list_topics").get("Topics") or []:
            key = wanted.get(":" + topic["TopicArn"].rsplit(":", 1)[-1])
            if key:
                found[key] = topic["TopicArn"]
        return found

    # -- the whole stack ------------------------------------------------------------------
    def read(self):
        for service in ("ec2", "elbv2", "autoscaling", "rds", "elasticache", "cloudfront", "sns"):
            self.client(service)
        vpc = self.vpc()
        stack = {"name": self.stack, "names": self.names, "vpc": vpc}
        calls = {
            "load_balancer": self.load_balancer, "target_group": self.target_group,
            "auto_scaling_group": self.auto_scaling_group, "database": self.database,
            "cache": self.cache, "distribution": self.distribution, "topics": self.topics,
        }
        if vpc:
            calls.update({
                "subnets": lambda: self.subnets(vpc["id"]),
                "security_groups": lambda: self.security_groups(vpc["id"]),
                "internet_gateway": lambda: self.internet_gateway(vpc["id"]),
                "route_tables": lambda: self.route_tables(vpc["id"]),
                "vpc_dns": lambda: self.vpc_dns(vpc["id"]),
                "nat_gateways": lambda: self.nat_gateways(vpc["id"]),
                "s3_endpoint_id": lambda: self.s3_endpoint_id(vpc["id"]),
            })
        else:
            stack.update({"subnets": {tier: [] for tier in (*TIERS, "other")}, "security_groups": {},
                          "internet_gateway": {}, "route_tables": [], "nat_gateways": [], "s3_endpoint_id": ""})
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = {key: pool.submit(call) for key, call in calls.items()}
            stack.update({key: future.result() for key, future in futures.items()})
        stack.update(stack.pop("topics"))
        if vpc:
            stack["vpc"].update(stack.pop("vpc_dns"))
        return self.summarise(stack)

    @staticmethod
    def summarise(stack):
        stack["subnet_ids"] = {tier: [row["id"] for row in rows] for tier, rows in stack["subnets"].items()}
        stack["security_group_ids"] = {tier: group["id"] for tier, group in stack["security_groups"].items()}
        stack["internet_gateway_id"] = stack["internet_gateway"].get("id", "")
        alb, group = stack["load_balancer"], stack["target_group"]
        stack["request_count_label"] = f"{alb['label']}/{group['label']}" if alb and group else ""
        missing = [key for key in ("vpc", "internet_gateway_id", "nat_gateways", "s3_endpoint_id", "load_balancer",
                                   "target_group", "auto_scaling_group", "database", "cache", "distribution",
                                   "alert_topic_arn", "order_topic_arn") if not stack[key]]
        missing += [f"subnets.{tier}" for tier in TIERS if not stack["subnets"][tier]]
        missing += [f"security_groups.{tier}" for tier in SECURITY_TIERS if tier not in stack["security_groups"]]
        stack["missing"] = sorted(missing)
        return stack


def main():
    module = AnsibleAWSModule(
        argument_spec={"stack": {"type": "str", "required": True}, "vpc_cidr": {"type": "str"}},
        supports_check_mode=True,
    )
    reader = StackReader(module, module.params["stack"], module.params["vpc_cidr"])
    try:
        stack = reader.read()
    except StackError as exc:
        module.fail_json(msg=str(exc))
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not read the stack {module.params['stack']}")
    module.exit_json(changed=False, stack=stack)


if __name__ == "__main__":
    main()

"""EC2 in the emulator: fixes to moto 5.2 and, in realistic mode, what EC2 does over time.

Fixes (always on):
- CreateLaunchTemplate keeps the template's own tags out of its version data;
- DescribeTags resource types natgateway, elastic-ip, vpc-flow-log (moto misnames them);
- CreateImage tags the new snapshots too (moto raises NotImplementedError);
- DeleteLaunchTemplateVersions (moto lacks it; amazon.aws deletes a template's other versions
  before the template).

Realistic mode (realism.SETTINGS.latency_scale > 0):
- NAT gateways are ``pending`` ~2 min, then ``available``; deleted ones are ``deleting`` ~1 min,
  then ``deleted``, when their network interface goes and their Elastic IP is freed;
- instances are ``pending`` ~30 s before ``running``; images ``pending`` ~3 min;
- a VPC, subnet, security group, NAT gateway or instance just created is not found for a
  few seconds by a Describe call that names its ID;
- deletes refused with ``DependencyViolation`` while something still uses the resource (a
  security group referenced by another group or used by a network interface, a database, a
  cache cluster or a load balancer; a subnet holding network interfaces; an Internet Gateway
  detached while public addresses are mapped; a VPC with dependents) and ``ReleaseAddress``
  refused with ``InvalidIPAddress.InUse`` while the address is associated; a second gateway
  endpoint of a service on a route table already routed to it refused with RouteAlreadyExists.
The dependency checks are on in instant mode too: AWS refuses those deletes whatever the speed.
"""

from __future__ import annotations

import realism

# NAT gateway create "≈1 min+", kops "up to 5 min"; delete "takes a little while"
# (shared/aws-behaviour.md: terraform-aws-vpc#999, kubernetes/kops#944, aws/aws-sdk#61).
NAT_CREATE_SECONDS = 120
NAT_DELETE_SECONDS = 60
# pending -> running ≈16.5 s whatever the type (brevdev/ec2-coldboot-research), 30 s typical
# with EBS encryption (daemonology.net EC2 boot time benchmarking, 2021).
INSTANCE_PENDING_SECONDS = 30
# CreateImage: "several minutes" for small roots (EC2 UG, creating-an-ami-ebs).
IMAGE_PENDING_SECONDS = 180
# "Eventual consistency": "the result of an API command you run that affects your EC2
# resources might not be immediately visible to all subsequent commands you run" (EC2 API
# reference, "Eventual consistency in the Amazon EC2 API"); a few seconds is typical.
DESCRIBE_LAG_SECONDS = 2

VISIBILITY = realism.Visibility()

# Describe actions that name IDs, the query parameter prefix of those IDs and the error AWS
# answers for an ID it does not know (EC2 API reference, "Error codes").
DESCRIBE_BY_ID = {
    "DescribeVpcs": ("VpcId.", "InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "DescribeSubnets": ("SubnetId.", "InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "DescribeSecurityGroups": ("GroupId.", "InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "DescribeNatGateways": ("NatGatewayId.", "NatGatewayNotFound", "NAT gateway {} was not found"),
    "DescribeInstances": ("InstanceId.", "InvalidInstanceID.NotFound", "The instance ID '{}' does not exist"),
}


def not_yet_visible(action: str, params: dict) -> tuple[str, str] | None:
    """The (code, message) AWS may still answer a Describe by ID of a resource just created."""
    spec = DESCRIBE_BY_ID.get(action)
    if not spec:
        return None
    prefix, code, message = spec
    for key, value in params.items():
        if key.startswith(prefix) and VISIBILITY.hidden(value):
            return code, message.format(value)
    return None


def install() -> None:
    _install_fixes()
    _install_lifecycles()
    _install_dependencies()


def _install_fixes() -> None:
    # CreateLaunchTemplate's TagSpecifications tag the template itself; they are not part
    # of LaunchTemplateData (EC2 API reference). moto 5.2 copies them into version 1's data,
    # so version 1 never matches a later, identical version.
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    original_create_lt = LaunchTemplateBackend.create_launch_template

    def create_launch_template(self, name, description, template_data, tag_spec):
        specs = [s for s in template_data.get("TagSpecifications") or [] if s.get("ResourceType") != "launch-template"]
        if specs:
            template_data["TagSpecifications"] = specs
        else:
            template_data.pop("TagSpecifications", None)
        return original_create_lt(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template

    # DescribeTags resource-type values, as the EC2 API reference lists them: NAT Gateways
    # are "natgateway" and Elastic IPs "elastic-ip" (moto 5.2 answers "nat-gateway" and
    # "vpc-elastic-ip", so a tag filter by type misses them and tag updates never settle).
    from moto.ec2 import utils as ec2_utils

    ec2_utils.EC2_PREFIX_TO_RESOURCE.update({"nat": "natgateway", "eipalloc": "elastic-ip", "fl": "vpc-flow-log"})

    # CreateImage TagSpecifications: "The tags to apply to the AMI and snapshots on
    # creation ... ResourceType: image or snapshot" (EC2 API reference, CreateImage); moto
    # 5.2 raises NotImplementedError on the snapshot ones (amazon.aws.ec2_ami sends both).
    from moto.ec2.models import EC2Backend

    original_create_image = EC2Backend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        snapshot_tags = [tag for spec in tag_specifications if spec.get("ResourceType") == "snapshot"
                         for tag in spec.get("Tags", [])]
        image_specs = [spec for spec in tag_specifications if spec.get("ResourceType") != "snapshot"]
        ami = original_create_image(self, instance_id, name, description, tag_specifications=image_specs)
        for tag in snapshot_tags:
            ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
        if realism.SETTINGS.realistic:
            # CreateImage answers at once; the image is "pending" until its snapshots are done
            # (EC2 API reference, Image.State: pending | available | ...).
            ami.state = "pending"
            realism.later(IMAGE_PENDING_SECONDS, lambda: setattr(ami, "state", "available"))
        return ami

    EC2Backend.create_image = create_image
    _install_delete_launch_template_versions()


def _install_delete_launch_template_versions() -> None:
    """DeleteLaunchTemplateVersions (EC2 API reference): deletes the versions named; the default
    version cannot be deleted ("you must first assign a different version as the default") and
    is answered in UnsuccessfullyDeletedLaunchTemplateVersions, as an unknown version is
    (launchTemplateVersionDoesNotExist); version numbers are never reused. moto numbers and
    finds versions by their place in a list, so a deleted version stays there, marked, and is
    neither described nor found."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound
    from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend
    from moto.ec2.responses.launch_templates import LaunchTemplates

    original_get_version = LaunchTemplate.get_version

    def get_version(self, num):
        version = original_get_version(self, num)
        if getattr(version, "deleted", False):
            raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)
        return version

    original_describe = LaunchTemplateBackend.describe_launch_template_versions

    def describe_launch_template_versions(self, *args, **kwargs):
        return [(template, version) for template, version in original_describe(self, *args, **kwargs)
                if not getattr(version, "deleted", False)]

    def delete_launch_template_versions(self):
        name, template_id = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId")
        template = (self.ec2_backend.get_launch_template(template_id) if template_id
                    else self.ec2_backend.get_launch_template_by_name(name))
        done, refused = [], []
        for asked in self._get_param("Versions", []):
            item = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
            found = next((v for v in template.versions if str(v.number) == str(asked) and not getattr(v, "deleted", False)),
                         None)
            if found is None:
                refused.append({**item, "VersionNumber": int(asked) if str(asked).isdigit() else 0, "ResponseError": {
                    "Code": "launchTemplateVersionDoesNotExist", "Message": f"The version {asked} does not exist"}})
            elif template.is_default(found):
                refused.append({**item, "VersionNumber": found.number, "ResponseError": {
                    "Code": "unexpectedError", "Message": "Cannot delete the default version of the launch template"}})
            else:
                found.deleted = True
                done.append({**item, "VersionNumber": found.number})
        return ActionResult({"SuccessfullyDeletedLaunchTemplateVersions": done,
                             "UnsuccessfullyDeletedLaunchTemplateVersions": refused})

    LaunchTemplate.get_version = get_version
    LaunchTemplateBackend.describe_launch_template_versions = describe_launch_template_versions
    LaunchTemplates.delete_launch_template_versions = delete_launch_template_versions


def _install_lifecycles() -> None:
    from moto.ec2.models import EC2Backend
    from moto.ec2.models.instances import Instance, InstanceState

    original_create_nat = EC2Backend.create_nat_gateway

    # NatGateway.State: pending | failed | available | deleting | deleted (EC2 API reference).
    def create_nat_gateway(self, *args, **kwargs):
        nat = original_create_nat(self, *args, **kwargs)
        VISIBILITY.hide(nat.id, DESCRIBE_LAG_SECONDS)
        if realism.SETTINGS.realistic:
            nat.state = "pending"
            realism.later(NAT_CREATE_SECONDS,
                          lambda: nat.state == "pending" and setattr(nat, "state", "available"))
        return nat

    def delete_nat_gateway(self, nat_gateway_id):
        nat = self.nat_gateways.get(nat_gateway_id)
        if nat is None:
            from moto.ec2.exceptions import EC2ClientError

            raise EC2ClientError("NatGatewayNotFound", f"NAT gateway {nat_gateway_id} was not found")
        if nat.state in ("deleting", "deleted"):
            return nat

        def deleted():
            nat.state = "deleted"
            # A deleted NAT gateway's network interface goes, and its Elastic IP is
            # disassociated ("When you delete a NAT gateway, its Elastic IP address is
            # disassociated, but not released", VPC User Guide, "Delete a NAT gateway").
            eni = getattr(nat, "_eni", None)
            if eni is not None:
                for address in [a for a in self.addresses if a.eni is eni]:
                    address.eni = None
                    address.association_id = None
                self.enis.pop(eni.id, None)

        nat.state = "deleting"
        realism.later(NAT_DELETE_SECONDS, deleted)
        return nat

    EC2Backend.create_nat_gateway = create_nat_gateway
    EC2Backend.delete_nat_gateway = delete_nat_gateway

    original_instance_init = Instance.__init__

    def instance_init(self, *args, **kwargs):
        original_instance_init(self, *args, **kwargs)
        VISIBILITY.hide(self.id, DESCRIBE_LAG_SECONDS)
        # "By default, network interfaces that are automatically created and attached to
        # instances ... are deleted when the instance terminates" (EC2 UG, "Modify network
        # interface attributes", Delete on termination); moto 5.2 keeps them, in use, forever,
        # so the instance's subnet and security groups could never be deleted.
        for nic in self.nics.values():
            if nic.description == "Primary network interface":
                nic.delete_on_termination = True
        if realism.SETTINGS.realistic:
            # "pending" (code 0) until the instance boots (EC2 UG, instance lifecycle).
            self._state = InstanceState("pending", 0)

            def running():
                if self._state.name == "pending":
                    self._state = InstanceState("running", 16)

            realism.later(INSTANCE_PENDING_SECONDS, running)

    Instance.__init__ = instance_init

    for name in ("create_vpc", "create_subnet", "create_security_group"):
        _hide_new(EC2Backend, name)


def _hide_new(backend_class, name: str) -> None:
    original = getattr(backend_class, name)

    def create(self, *args, **kwargs):
        resource = original(self, *args, **kwargs)
        VISIBILITY.hide(resource.id, DESCRIBE_LAG_SECONDS)
        return resource

    setattr(backend_class, name, create)


# --------------------------------------------------------------------------- dependencies
def _rds_instances(account_id: str, region: str) -> list:
    from moto.rds.models import rds_backends

    return list(rds_backends[account_id][region].databases.values())


def _cache_clusters(account_id: str, region: str) -> list:
    from moto.elasticache.models import elasticache_backends

    return list(elasticache_backends[account_id][region].cache_clusters.values())


def _load_balancers(account_id: str, region: str) -> list:
    from moto.elbv2.models import elbv2_backends

    return list(elbv2_backends[account_id][region].load_balancers.values())


def _rds_subnets(database) -> set[str]:
    group = getattr(database, "db_subnet_group", None)
    subnets = list(getattr(group, "_subnets", None) or []) if group is not None else []
    # A Single-AZ instance holds an interface in its own AZ's subnet; Multi-AZ a standby in
    # another one too (RDS UG, "Working with a DB instance in a VPC").
    if getattr(database, "multi_az", False):
        return {s.id for s in subnets}
    zone = getattr(database, "availability_zone", None)
    return {s.id for s in subnets if s.availability_zone == zone} or {s.id for s in subnets}


def _cache_subnets(account_id: str, region: str, cluster) -> set[str]:
    from moto.elasticache.models import elasticache_backends

    group = elasticache_backends[account_id][region].cache_subnet_groups.get(cluster.cache_subnet_group_name or "")
    return set(getattr(group, "subnet_ids", []) or []) if group else set()


def _install_dependencies() -> None:
    from moto.ec2.exceptions import DependencyViolationError, EC2ClientError
    from moto.ec2.models import EC2Backend

    original_delete_sg = EC2Backend.delete_security_group
    original_delete_subnet = EC2Backend.delete_subnet
    original_detach_igw = EC2Backend.detach_internet_gateway
    original_release = EC2Backend.release_address
    original_delete_vpc = EC2Backend.delete_vpc

    # DeleteSecurityGroup: "If you attempt to delete a security group that is associated with
    # an instance or network interface, is referenced by another security group in the same
    # VPC, or is referenced by a security group in a peer VPC, the operation fails with
    # DependencyViolation" (EC2 API reference, DeleteSecurityGroup).
    def users_of_group(self, group_id: str) -> list[str]:
        users = []
        for vpc_groups in self.groups.values():
            for other in vpc_groups.values():
                if other.id == group_id:
                    continue
                for rule in list(other.ingress_rules) + list(other.egress_rules):
                    if (rule.source_group or {}).get("GroupId") == group_id:
                        users.append(other.id)
        for eni in self.enis.values():
            if any(getattr(g, "id", g) == group_id for g in eni.group_set):
                users.append(eni.id)
        for database in _rds_instances(self.account_id, self.region_name):
            if group_id in (database.vpc_security_group_ids or []):
                users.append(f"db {database.db_instance_identifier} ({database.status})")
        for cluster in _cache_clusters(self.account_id, self.region_name):
            if group_id in (cluster.security_group_ids or []):
                users.append(f"cache {cluster.cache_cluster_id} ({cluster.cache_cluster_status})")
        for balancer in _load_balancers(self.account_id, self.region_name):
            if group_id in (balancer.security_groups or []):
                users.append(f"load balancer {balancer.name}")
        return users

    def delete_security_group(self, name=None, group_id=None):
        group = self.get_security_group_by_name_or_id(group_id or name)
        if group is not None and group.name != "default" and users_of_group(self, group.id):
            raise DependencyViolationError(f"resource {group.id} has a dependent object")
        return original_delete_sg(self, name=name, group_id=group_id)

    # DeleteSubnet: "You must terminate all running instances in the subnet before you can
    # delete the subnet" (EC2 API reference); any network interface in it (a NAT gateway's,
    # a database's, a load balancer's) stops the delete with DependencyViolation.
    def users_of_subnet(self, subnet_id: str) -> list[str]:
        users = [eni.id for eni in self.enis.values() if getattr(eni.subnet, "id", None) == subnet_id]
        users += [nat.id for nat in self.nat_gateways.values()
                  if nat.subnet_id == subnet_id and nat.state != "deleted"]
        for database in _rds_instances(self.account_id, self.region_name):
            if subnet_id in _rds_subnets(database):
                users.append(f"db {database.db_instance_identifier} ({database.status})")
        for cluster in _cache_clusters(self.account_id, self.region_name):
            if subnet_id in _cache_subnets(self.account_id, self.region_name, cluster):
                users.append(f"cache {cluster.cache_cluster_id}")
        for balancer in _load_balancers(self.account_id, self.region_name):
            if subnet_id in [getattr(s, "id", s) for s in balancer.subnets]:
                users.append(f"load balancer {balancer.name}")
        return users

    def delete_subnet(self, subnet_id):
        if users_of_subnet(self, subnet_id):
            raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
        return original_delete_subnet(self, subnet_id)

    # DetachInternetGateway: "The VPC must not contain any running instances with Elastic IP
    # addresses or public IPv4 addresses" (EC2 API reference); AWS answers DependencyViolation
    # "Network vpc-... has some mapped public address(es)".
    def mapped_addresses(self, vpc_id: str) -> list[str]:
        mapped = [a.public_ip for a in self.addresses
                  if a.eni is not None and getattr(a.eni.subnet, "vpc_id", None) == vpc_id]
        for balancer in _load_balancers(self.account_id, self.region_name):
            if balancer.vpc_id == vpc_id and balancer.scheme == "internet-facing":
                mapped.append(balancer.dns_name)
        return mapped

    def detach_internet_gateway(self, internet_gateway_id, vpc_id):
        if mapped_addresses(self, vpc_id):
            raise DependencyViolationError(
                f"Network {vpc_id} has some mapped public address(es). "
                "Please unmap those public address(es) before detaching the gateway.")
        return original_detach_igw(self, internet_gateway_id, vpc_id)

    # ReleaseAddress: "you must first disassociate the Elastic IP address" (EC2 API reference);
    # while it is associated AWS answers InvalidIPAddress.InUse (moto disassociates silently).
    def release_address(self, address=None, allocation_id=None):
        found = self.address_by_ip([address]) if address else self.address_by_allocation([allocation_id])
        if found and found[0].eni is not None:
            raise EC2ClientError("InvalidIPAddress.InUse", f"Address {found[0].public_ip} is in use.")
        return original_release(self, address=address, allocation_id=allocation_id)

    # DeleteVpc: "You must detach or delete all gateways and resources that are associated
    # with the VPC before you can delete it" (EC2 API reference): moto checks subnets and
    # route tables; security groups other than the default and gateways count too.
    def delete_vpc(self, vpc_id):
        groups = [g for g in self.groups.get(vpc_id, {}).values() if g.name != "default"]
        gateways = [igw for igw in self.internet_gateways.values() if igw.vpc and igw.vpc.id == vpc_id]
        if groups or gateways:
            raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
        return original_delete_vpc(self, vpc_id)

    # A gateway endpoint adds a route to its service's prefix list in each of its route tables,
    # and a route table holds one route per destination: a second gateway endpoint of the same
    # service on a table already routed to it is refused with RouteAlreadyExists (VPC User
    # Guide, "Gateway endpoints", routing: "You can't have more than one route to the same
    # prefix list in a route table"). moto 5.2 adds it anyway.
    original_create_endpoint = EC2Backend.create_vpc_endpoint

    def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, policy_document, route_table_ids, *args, **kwargs):
        if (endpoint_type or "gateway").lower() == "gateway":
            for endpoint in self.vpc_end_points.values():
                if endpoint.service_name != service_name or endpoint.state in ("deleted", "deleting"):
                    continue
                shared = set(endpoint.route_table_ids or []) & set(route_table_ids or [])
                if shared:
                    table = sorted(shared)[0]
                    raise EC2ClientError("RouteAlreadyExists", f"route table {table} already has a route with "
                                         f"destination-prefix-list-id {endpoint.destination_prefix_list_id}")
        return original_create_endpoint(self, vpc_id, service_name, endpoint_type, policy_document, route_table_ids,
                                        *args, **kwargs)

    EC2Backend.create_vpc_endpoint = create_vpc_endpoint
    EC2Backend.delete_security_group = delete_security_group
    EC2Backend.delete_subnet = delete_subnet
    EC2Backend.detach_internet_gateway = detach_internet_gateway
    EC2Backend.release_address = release_address
    EC2Backend.delete_vpc = delete_vpc

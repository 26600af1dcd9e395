"""Elastic Load Balancing v2 in the emulator.

Fixes (always on): the default attributes of an Application Load Balancer.
Realistic mode: a new load balancer is ``provisioning`` ~3 min, then ``active`` (ELB API
reference, LoadBalancerState; "no more than 5" minutes in CI, terraform#24799); a newly
registered target is ``initial`` (Elb.RegistrationInProgress) until its instance runs and one
health check has passed ("a new target needs a single pass", ELB UG, target group health checks).
With the local fleet (``install_fleet``), target health comes from the containers' real health
checks, and deregistered targets drain for the deregistration delay.
"""

from __future__ import annotations

import time

import realism

PROVISIONING_SECONDS = 180


def install() -> None:
    from moto.elbv2.models import FakeHealthStatus, FakeLoadBalancer, FakeTargetGroup

    # DescribeLoadBalancerAttributes of a new Application Load Balancer returns every
    # attribute with its default (ELB API reference, LoadBalancerAttribute); moto 5.2
    # returns four, so modules comparing idle timeout or header handling fail.
    alb_defaults = {
        "access_logs.s3.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false",
        "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "zonal_shift.config.enabled": "false",
    }
    original_lb_init = FakeLoadBalancer.__init__

    def lb_init(self, *args, **kwargs):
        original_lb_init(self, *args, **kwargs)
        if self.type == "application":
            self.attrs = {**alb_defaults, **self.attrs, "load_balancing.cross_zone.enabled": "true"}
        # moto turns "provisioning" into "active" on the first describe; AWS takes minutes.
        self.shop_active_at = time.monotonic() + realism.real_seconds(PROVISIONING_SECONDS)

    def activate(self):
        if self.state == "provisioning" and time.monotonic() >= self.shop_active_at:
            self.state = "active"

    FakeLoadBalancer.__init__ = lb_init
    FakeLoadBalancer.activate = activate

    original_register = FakeTargetGroup.register
    original_health_for = FakeTargetGroup.health_for

    # RegisterTargets accepts an instance that is still "pending" (an Auto Scaling group
    # registers its instances as it launches them, ELB UG "Register targets"); moto 5.2 refuses
    # any instance that is not "running", which only an instant emulator could satisfy.
    def register(self, targets):
        from moto.elbv2.exceptions import TargetNotRunning

        for target in targets:
            instance = self.ec2_backend.get_instance_by_id(target["Id"])
            if instance is not None and instance.state not in ("pending", "running"):
                raise TargetNotRunning(instance_id=target["Id"])
        running = [t for t in targets if getattr(self.ec2_backend.get_instance_by_id(t["Id"]), "state", "") != "pending"]
        original_register(self, running)
        for target in targets:
            if target not in running:
                self.targets[target["Id"]] = {"Id": target["Id"], "Port": target.get("Port", self.port)}
                self.deregistered_targets.pop(target["Id"], None)
        seconds = realism.real_seconds(self.health_check_interval_seconds or 30)
        registered = getattr(self, "shop_healthy_at", None)
        if registered is None:
            registered = self.shop_healthy_at = {}
        for target in targets:
            registered.setdefault(target["Id"], time.monotonic() + seconds)

    def health_for(self, target, ec2_backend):
        status = original_health_for(self, target, ec2_backend)
        if realism.SETTINGS.realistic and status.status == "healthy":
            target_id = target["Id"]
            instance = ec2_backend.get_instance_by_id(target_id) if target_id.startswith("i-") else None
            due = (getattr(self, "shop_healthy_at", None) or {}).get(target_id, 0)
            if (instance is not None and instance.state == "pending") or time.monotonic() < due:
                return FakeHealthStatus(target_id, status.port, self.health_check_port, "initial",
                                        "Elb.RegistrationInProgress", "Target registration is in progress")
        return status

    FakeTargetGroup.register = register
    FakeTargetGroup.health_for = health_for


def install_fleet(fleet) -> None:
    """Target health from the fleet's real health checks; deregistered targets drain first."""
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    original_health_for = FakeTargetGroup.health_for
    original_register = FakeTargetGroup.register
    original_deregister = FakeTargetGroup.deregister
    original_deregister_terminated = FakeTargetGroup.deregister_terminated_instances
    original_describe_health = ELBv2Backend.describe_target_health

    def health_for(self, target, ec2_backend):
        target_id = target["Id"]
        port = target.get("Port", self.port)
        if target_id not in self.targets and fleet.draining_until(self, target_id):
            return FakeHealthStatus(target_id, port, self.health_check_port, "draining",
                                    "Target.DeregistrationInProgress", "Target deregistration is in progress")
        health = fleet.target_health(self, target_id)
        if health is not None:
            return FakeHealthStatus(target_id, self.targets[target_id]["Port"], self.health_check_port,
                                    health.state, health.reason, health.description)
        if target_id not in self.targets and (target_id in self.terminated_targets or target_id in self.deregistered_targets):
            return FakeHealthStatus(target_id, port, self.health_check_port, "unused",
                                    "Target.NotRegistered", "Target is not registered to the target group")
        return original_health_for(self, target, ec2_backend)

    def register(self, targets):
        original_register(self, targets)
        for target in targets:
            fleet.registered(self, target["Id"])

    def deregister(self, targets):
        original_deregister(self, targets)
        for target in targets:
            fleet.deregistered(self, target["Id"])

    def deregister_terminated_instances(self, instance_ids):
        leaving = [i for i in self.targets if i in instance_ids]
        original_deregister_terminated(self, instance_ids)
        for target_id in leaving:
            fleet.deregistered(self, target_id)

    def describe_target_health(self, target_group_arn, targets):
        if not targets:
            group = self.target_groups.get(target_group_arn)
            if group is not None:
                draining = [{"Id": i} for (arn, i) in list(fleet.draining)
                            if arn == target_group_arn and i not in group.targets and fleet.draining_until(group, i)]
                targets = list(group.targets.values()) + draining
        return original_describe_health(self, target_group_arn, targets)

    FakeTargetGroup.health_for = health_for
    FakeTargetGroup.register = register
    FakeTargetGroup.deregister = deregister
    FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances
    ELBv2Backend.describe_target_health = describe_target_health

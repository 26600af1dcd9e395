"""Filters that plan and check the network's address space.

They are pure functions of their inputs (no AWS call), so the network role can refuse a
bad address plan before touching anything.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

DOCUMENTATION_SUBNET_PLAN = """
subnet_plan(vpc_cidr, azs, tiers=('public', 'app', 'db'), newbits=None)
    Carve one subnet per tier and AZ out of vpc_cidr. Each tier takes a contiguous block
    (the VPC split in 4, the last quarter left free for later tiers), and each AZ one
    subnet of that block. newbits (extra prefix bits of a subnet over the VPC) defaults
    to the largest size that fits. Returns {tier: [{az, cidr}, ...]}.
"""


def _network(value, name="cidr"):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise AnsibleFilterError(f"{name}: '{value}' is not a valid network CIDR ({exc})") from exc


def subnet_plan(vpc_cidr, azs, tiers=("public", "app", "db"), newbits=None):
    vpc = _network(vpc_cidr, "vpc_cidr")
    azs = list(azs)
    tiers = list(tiers)
    if not azs:
        raise AnsibleFilterError("azs: at least one availability zone is needed")
    if len(tiers) > 4:
        raise AnsibleFilterError("tiers: at most 4 tiers fit the plan")
    # Four tier blocks, each split into a power of two >= the AZ count.
    az_bits = max(1, (len(azs) - 1).bit_length())
    max_newbits = 2 + az_bits
    if newbits is None:
        newbits = max_newbits
    newbits = int(newbits)
    if newbits < max_newbits:
        raise AnsibleFilterError(
            f"newbits: {newbits} leaves room for fewer than {len(azs)} subnets per tier in 4 tier blocks; "
            f"use at least {max_newbits}"
        )
    if vpc.prefixlen + newbits > 28:
        raise AnsibleFilterError(
            f"vpc_cidr: {vpc_cidr} with newbits {newbits} gives subnets smaller than /28, the AWS minimum"
        )
    blocks = list(vpc.subnets(prefixlen_diff=2))
    plan = {}
    for tier, block in zip(tiers, blocks, strict=False):
        subnets = block.subnets(new_prefix=vpc.prefixlen + newbits)
        plan[tier] = [{"az": az, "cidr": str(next(subnets))} for az in azs]
    return plan


def cidr_overlaps(cidrs):
    """Return the overlapping pairs among a list of CIDRs, as ['a overlaps b', ...]."""
    nets = [(str(c), _network(c)) for c in cidrs]
    found = []
    for i, (name_a, net_a) in enumerate(nets):
        for name_b, net_b in nets[i + 1:]:
            if net_a.overlaps(net_b):
                found.append(f"{name_a} overlaps {name_b}")
    return found


def cidr_outside(cidrs, vpc_cidr):
    """Return the CIDRs of a list that are not inside vpc_cidr."""
    vpc = _network(vpc_cidr, "vpc_cidr")
    return [str(c) for c in cidrs if not _network(c).subnet_of(vpc)]


def cidr_invalid(cidrs):
    """Return the items of a list that are not valid IPv4 network CIDRs (host bits set included)."""
    bad = []
    for c in cidrs:
        try:
            if not isinstance(ipaddress.ip_network(str(c), strict=True), ipaddress.IPv4Network):
                bad.append(str(c))
        except ValueError:
            bad.append(str(c))
    return bad


# RFC 1918, section 3: the address blocks reserved for private internets.
PRIVATE_BLOCKS = tuple(ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def cidr_not_private(cidrs):
    """Return the valid IPv4 CIDRs of a list that are not inside one of RFC 1918's private blocks."""
    return [str(c) for c in cidrs if str(c) not in cidr_invalid([c])
            and not any(_network(c).subnet_of(block) for block in PRIVATE_BLOCKS)]


def explicit_subnet_plan(subnets, azs):
    """Shape explicit CIDRs {tier: [cidr per AZ]} like subnet_plan's answer."""
    azs = list(azs)
    plan = {}
    for tier, cidrs in subnets.items():
        if len(cidrs) != len(azs):
            raise AnsibleFilterError(f"subnets.{tier}: {len(cidrs)} CIDRs for {len(azs)} AZs")
        plan[tier] = [{"az": az, "cidr": str(cidr)} for az, cidr in zip(azs, cidrs, strict=False)]
    return plan


class FilterModule:
    def filters(self):
        return {
            "subnet_plan": subnet_plan,
            "cidr_overlaps": cidr_overlaps,
            "cidr_outside": cidr_outside,
            "cidr_invalid": cidr_invalid,
            "cidr_not_private": cidr_not_private,
            "explicit_subnet_plan": explicit_subnet_plan,
        }

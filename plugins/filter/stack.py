"""Filters over the stack's names and its look-up (shop.aws.stack_info).

stack_names(stack)
    The names of the stack's resources (plugins/module_utils/stack_names.py): the roles and the
    look-up agree on them.
converged_route_table(route_tables, tags, subnet_ids, routes)
    The ID of the looked-up route table that carries exactly ``tags`` and already has exactly
    ``subnet_ids`` and ``routes`` (as amazon.aws.ec2_vpc_route_table takes them: dest with
    gateway_id or nat_gateway_id), or '' when it is missing or differs and must be converged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.module_utils.stack_names import stack_names as _stack_names

ROUTE_TARGETS = ("gateway_id", "nat_gateway_id")


def stack_names(stack):
    try:
        return _stack_names(stack)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def _route(route):
    return (route.get("dest", ""),) + tuple(route.get(key, "") for key in ROUTE_TARGETS)


def converged_route_table(route_tables, tags, subnet_ids, routes):
    wanted_routes = sorted(_route(route) for route in routes or [])
    for table in route_tables or []:
        if table.get("tags") != tags:
            continue
        if table.get("subnet_ids") == sorted(subnet_ids or []) and sorted(map(_route, table.get("routes") or [])) == wanted_routes:
            return table["id"]
        return ""
    return ""


class FilterModule:
    def filters(self):
        return {"stack_names": stack_names, "converged_route_table": converged_route_table}

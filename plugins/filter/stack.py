"""Filters over the stack's names and its look-up (shop.aws.stack_info).

stack_names(stack)
    The names of the stack's resources (plugins/module_utils/stack_names.py): the roles and the
    look-up agree on them.
converged_route_table(route_tables, tags, subnet_ids, routes)
    The ID of the looked-up route table that carries exactly ``tags`` and already has exactly
    ``subnet_ids`` and ``routes`` (as amazon.aws.ec2_vpc_route_table takes them: dest with
    gateway_id or nat_gateway_id), or '' when it is missing or differs and must be converged.
route_table_plan(route_tables, tags, subnet_ids, routes)
    What converging that route table would do, for shop.aws.plan_change: C(action) (add when no
    table carries its Name tag, else change) and C(attributes) ({attribute: [before, after]}:
    the routes, the associated subnets and each tag that differs).
tag_changes(before, after)
    {"tag KEY": [before, after]} for each tag that differs (a tag removed: after None).
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


def tag_changes(before, after):
    before, after = before or {}, after or {}
    return {f"tag {key}": [before.get(key), after.get(key)]
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def _routes(routes):
    return sorted(" -> ".join(part for part in _route(route) if part) for route in routes or [])


def route_table_plan(route_tables, tags, subnet_ids, routes):
    wanted = {"routes": _routes(routes), "subnets": sorted(subnet_ids or [])}
    found = next((table for table in route_tables or [] if (table.get("tags") or {}).get("Name") == tags.get("Name")), None)
    if found is None:
        return {"action": "add", "attributes": {**{key: [None, value] for key, value in wanted.items()},
                                                **tag_changes({}, tags)}}
    have = {"routes": _routes(found.get("routes")), "subnets": sorted(found.get("subnet_ids") or [])}
    attributes = {key: [have[key], wanted[key]] for key in wanted if have[key] != wanted[key]}
    return {"action": "change", "attributes": {**attributes, **tag_changes(found.get("tags"), tags)}}


class FilterModule:
    def filters(self):
        return {"stack_names": stack_names, "converged_route_table": converged_route_table,
                "route_table_plan": route_table_plan, "tag_changes": tag_changes}

"""The names of the stack's resources: ``stack_name | shop.aws.stack_names``.

The same function names what shop.aws.stack_info finds, so the roles and the look-up agree.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.module_utils.stack_names import stack_names as _stack_names


def stack_names(stack):
    try:
        return _stack_names(stack)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"stack_names": stack_names}

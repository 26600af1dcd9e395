# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: who runs this playbook (user, host, ansible-playbook process)."""

DOCUMENTATION = r"""
name: run_holder
short_description: The user, host and ansible-playbook process of this run
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Returns one dict with C(user), C(host) and C(pid), the process of C(ansible-playbook) itself
    (lookups are evaluated in a worker process forked from it; its parent is the run).
  - The stack_lock module records it, so a lock whose process is gone is known to be stale.
options: {}
"""

EXAMPLES = r"""
- name: Take the stack's lock as this run
  shop.aws.stack_lock:
    name: /shop-local/lock
    holder: "{{ lookup('shop.aws.run_holder') }}"
"""

RETURN = r"""
_raw:
  description: One dict with user, host and pid.
  type: list
  elements: dict
"""

import getpass
import multiprocessing
import os
import socket

from ansible.plugins.lookup import LookupBase


def run_pid():
    """The ansible-playbook process: this one's parent when running in a forked worker."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return [{"user": user, "host": socket.gethostname(), "pid": run_pid()}]

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: stack_lock
short_description: Take or release a stack's run lock, kept in SSM Parameter Store
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - One run at a time changes a stack, as Terraform's state lock ensures for its runs. The lock
    is an SSM parameter created only if it does not exist (C(PutParameter) without
    C(Overwrite) fails with C(ParameterAlreadyExists)), so two runs can never both take it.
  - The lock names its holder (user, host, process), since when it is held and when it
    expires. A second run is refused at once with that information.
  - A lock is stale when it has expired, or when its holder ran on this host and its process
    is gone (a run killed with SIGKILL or interrupted before it released the lock). A stale
    lock is taken over; a marker parameter named after the stale lock's ID makes the takeover
    itself exclusive.
  - Any lock can be broken by naming its ID (O(break_lock_id)), for a holder on another host
    that died before its lock expired.
  - In check mode, a lock held by another run still refuses the run; nothing is written.
  - Taking, refreshing and releasing the run's own lock is the run's bookkeeping, not a change
    to the stack, and reports C(changed=false) (so a converged stack still converges with
    C(changed=0)); taking over a stale lock or breaking one reports C(changed=true).
options:
  name:
    description: Name of the SSM parameter that holds the lock (e.g. C(/shop-production/lock)).
    type: str
    required: true
  state:
    description: C(present) takes the lock (or refreshes it, with O(lock_id) of the holder); C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  holder:
    description: Who takes the lock, as C(user), C(host) and C(pid) (the ansible-playbook process).
    type: dict
    default: {}
  ttl:
    description: Seconds after which an unreleased lock is stale and may be taken over.
    type: int
    default: 7200
  lock_id:
    description: The ID of the lock this run holds (to refresh or release it). Releasing a lock
      with another ID changes nothing.
    type: str
  break_lock_id:
    description: Take over the lock with this ID whoever holds it (the holder is known to be gone).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Take the stack's lock
  shop.aws.stack_lock:
    name: /shop-production/lock
    holder: {user: ci, host: runner-1, pid: 4242}
    ttl: 7200
  register: lock

- name: Release it
  shop.aws.stack_lock:
    name: /shop-production/lock
    lock_id: "{{ lock.lock.id }}"
    state: absent
"""

RETURN = r"""
lock:
  description: The lock as it stands after the task. Empty when released or never taken.
  returned: always
  type: dict
  contains:
    id:
      description: The lock's ID.
      type: str
      sample: 1b4e28ba-2fa1-11d2-883f-0016d3cca427
    user:
      description: The holder's user.
      type: str
      sample: ci
    host:
      description: The holder's host.
      type: str
      sample: runner-1
    pid:
      description: The holder's ansible-playbook process.
      type: int
      sample: 4242
    since:
      description: When the lock was taken (UTC, ISO 8601).
      type: str
      sample: "2026-12-01T15:00:00Z"
    expires:
      description: When the lock becomes stale unless refreshed (UTC, ISO 8601).
      type: str
      sample: "2026-12-01T17:00:00Z"
released:
  description: Whether this run's lock was found and deleted (with O(state=absent)).
  returned: with state=absent
  type: bool
  sample: true
took_over:
  description: The stale lock this run took over, and why it was stale.
  returned: when a stale lock was taken over
  type: dict
  sample: {"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "reason": "its process 4242 on runner-1 is gone"}
"""

import datetime as dt
import json
import os
import socket
import uuid

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Held(Exception):
    """The lock is held by another run."""


def _utc(text):
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def new_lock(holder, ttl, now):
    return {
        "id": str(uuid.uuid4()),
        "user": str(holder.get("user") or "unknown"),
        "host": str(holder.get("host") or socket.gethostname()),
        "pid": int(holder.get("pid") or 0),
        "since": now.strftime(TIME_FORMAT),
        "expires": (now + dt.timedelta(seconds=ttl)).strftime(TIME_FORMAT),
    }


def pid_alive(pid):
    if pid <= 0:
        return True  # unknown: only the expiry can make it stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_reason(lock, now, this_host, alive=pid_alive):
    """Why ``lock`` is stale, or None while its holder may still run."""
    try:
        expires = _utc(lock["expires"])
    except (KeyError, ValueError):
        return "it cannot be read"
    if expires <= now:
        return f"it expired at {lock['expires']}"
    if lock.get("host") == this_host and not alive(int(lock.get("pid") or 0)):
        return f"its process {lock.get('pid')} on {this_host} is gone"
    return None


def held_message(name, lock, now):
    since = _utc(lock["since"])
    minutes = int((now - since).total_seconds() // 60)
    return (
        f"The stack is locked by {lock.get('user')}@{lock.get('host')} (process {lock.get('pid')}) "
        f"since {lock['since']} ({minutes} min ago), until {lock['expires']}; lock ID {lock['id']} in the "
        f"SSM parameter {name}. Another run is changing this stack: nothing was changed. Wait for it to end. "
        f"If that run is gone, break the lock: ansible-playbook playbooks/unlock.yml -i inventories/<env> "
        f"-e stack_lock_id={lock['id']}"
    )


def read(client, name):
    try:
        return json.loads(client.get_parameter(aws_retry=True, Name=name)["Parameter"]["Value"])
    except is_boto3_error_code("ParameterNotFound"):
        return None


def create(client, name, value):
    """Create the parameter; False when it already exists (the atomic test-and-set)."""
    try:
        client.put_parameter(aws_retry=True, Name=name, Value=json.dumps(value), Type="String", Overwrite=False,
                             Description="Run lock of the stack (stack_lock module)")
    except is_boto3_error_code("ParameterAlreadyExists"):
        return False
    return True


def overwrite(client, name, value):
    client.put_parameter(aws_retry=True, Name=name, Value=json.dumps(value), Type="String", Overwrite=True)


def delete(client, name):
    try:
        client.delete_parameter(aws_retry=True, Name=name)
    except is_boto3_error_code("ParameterNotFound"):
        pass


class LockManager:
    def __init__(self, module, client, now=None):
        self.module = module
        self.client = client
        self.now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.host = socket.gethostname()

    def acquire(self, name, holder, ttl, lock_id, break_lock_id):
        current = read(self.client, name)
        wanted = new_lock(holder, ttl, self.now)
        if current is None:
            if self.module.check_mode:
                return True, wanted, None
            if create(self.client, name, wanted):
                return True, wanted, None
            current = read(self.client, name)  # another run took it between the two calls
            if current is None:
                raise Held(f"The lock {name} changed hands while it was being taken: run again.")
        if lock_id and current.get("id") == lock_id:
            refreshed = dict(current, expires=wanted["expires"])
            if not self.module.check_mode:
                overwrite(self.client, name, refreshed)
            return current["expires"] != refreshed["expires"], refreshed, None
        if break_lock_id and current.get("id") == break_lock_id:
            reason = "it was broken on request (break_lock_id)"
        else:
            reason = stale_reason(current, self.now, self.host)
        if reason is None:
            raise Held(held_message(name, current, self.now))
        if self.module.check_mode:
            return True, wanted, {"id": current.get("id"), "reason": reason}
        # Exclusive takeover: only one run can create the marker named after the stale lock.
        marker = f"{name}-takeover-{current.get('id')}"
        if not create(self.client, marker, wanted):
            raise Held(f"Another run is taking over the stale lock {current.get('id')} of {name}: nothing was changed.")
        try:
            again = read(self.client, name)
            if (again or {}).get("id") != current.get("id"):
                raise Held(held_message(name, again, self.now) if again else f"The lock {name} changed hands: run again.")
            overwrite(self.client, name, wanted)
        finally:
            delete(self.client, marker)
        return True, wanted, {"id": current.get("id"), "reason": reason}

    def release(self, name, lock_id):
        current = read(self.client, name)
        if current is None or current.get("id") != lock_id:
            return False, current or {}
        if not self.module.check_mode:
            delete(self.client, name)
        return True, {}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        holder=dict(type="dict", default={}),
        ttl=dict(type="int", default=7200),
        lock_id=dict(type="str"),
        break_lock_id=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, required_if=[["state", "absent", ["lock_id"]]],
                              supports_check_mode=True)
    params = module.params
    if params["ttl"] < 60:
        module.fail_json(msg=f"ttl: must be at least 60 seconds, got {params['ttl']}")
    manager = LockManager(module, calls.client(module, "ssm"))
    try:
        if params["state"] == "present":
            lock, took_over = manager.acquire(params["name"], params["holder"], params["ttl"],
                                              params["lock_id"], params["break_lock_id"])[1:]
            result = {"changed": bool(took_over), "lock": lock}
            if took_over:
                result["took_over"] = took_over
        else:
            released, lock = manager.release(params["name"], params["lock_id"])
            result = {"changed": False, "released": released, "lock": lock}
    except Held as e:
        module.fail_json(msg=str(e))
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Could not read or write the lock {params['name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

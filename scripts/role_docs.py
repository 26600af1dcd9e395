"""Write each role's README from its meta/argument_specs.yml and meta/iam.yml (so they never
disagree): the main entry point's description gives the purpose, the options the variables, and
meta/iam.yml the IAM actions (a role without it, which the deployer's lifecycle does not run,
says them in prose as the description's second item).

Usage: python scripts/role_docs.py          # rewrite roles/*/README.md
       python scripts/role_docs.py --check  # fail when a README is out of date
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

IAM_PREFIX = "IAM actions it needs: "


def role_docs(role: str) -> tuple[dict, str, str]:
    """A role's entry points, purpose and IAM actions: the main entry point's description is
    [purpose] when meta/iam.yml declares the actions, else [purpose, "IAM actions it needs: ..."]."""
    specs = yaml.safe_load((ROOT / "roles" / role / "meta/argument_specs.yml").read_text())["argument_specs"]
    description = specs["main"].get("description") or []
    declared = ROOT / "roles" / role / "meta/iam.yml"
    if declared.exists():
        if len(description) != 1:
            sys.exit(f"roles/{role}/meta/argument_specs.yml: main.description must be [purpose] (meta/iam.yml has the IAM actions)")
        return specs, description[0], iam_text(role, yaml.safe_load(declared.read_text()))
    if len(description) != 2 or not description[1].startswith(IAM_PREFIX):
        sys.exit(f"roles/{role}/meta/argument_specs.yml: main.description must be [purpose, '{IAM_PREFIX}...']")
    return specs, description[0], description[1].removeprefix(IAM_PREFIX)


def iam_text(role: str, declared: dict) -> str:
    """The actions of meta/iam.yml by service, then those AWS needs where the emulator never asks."""
    by_service: dict[str, list[str]] = {}
    for action in declared.get("iam_actions") or []:
        service, _, name = action.partition(":")
        by_service.setdefault(service, []).append(name)
    lines = ["From `meta/iam.yml` (recorded by `tools/iam_actions.py`; `playbooks/deployer_policy.yml` makes the "
             "deployer's policy of every role's, docs/least-privilege.md):", ""]
    lines += [f"- {service}: {', '.join(names)}" for service, names in sorted(by_service.items())]
    for action, why in (declared.get("iam_actions_unexercised") or {}).items():
        lines.append(f"- {action} (not asked for by the emulator: {why})")
    if role not in ("stack_lock", "stack_lookup"):
        lines += ["", "and the reads of `stack_lookup` and the lock of `stack_lock`, which it runs."]
    return "\n".join(lines)


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
    "stack_lookup": ["# in a role's tasks, before it uses the stack's parts", "- name: present | Read the stack",
                     "  ansible.builtin.import_role:", "    name: shop.aws.stack_lookup",
                     "- name: present | Create the DB subnet group over the DB tier", "  amazon.aws.rds_subnet_group:",
                     "    name: \"{{ stack_lookup_parts.names.db_subnet_group }}\"",
                     "    subnets: \"{{ stack_lookup_parts.subnet_ids.db }}\"", "    # ...",
                     "# ...and once it changed a part the look-up reports:",
                     "- name: present | Have the next role read the stack again (this one changed it)",
                     "  ansible.builtin.set_fact:", "    stack_lookup_stale: true"],
    "migrate_db": ["# playbooks/migrate_db.yml", "- name: Migrate the database into RDS",
                   "  hosts: \"{{ migrate_db_host | default('migration') }}\"", "  gather_facts: false",
                   "  vars_files: [vars/stack.yml]", "  tasks:", "    - ansible.builtin.import_role: {name: shop.aws.migrate_db}"],
}


def render(role):
    specs, purpose, iam = role_docs(role)
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
                     "stack_lock": "takes the lock",
                     "stack_lookup": "reads the stack into the fact `stack_lookup_parts` unless the run's look-up is current"
                     }.get(role, "configures the host")
        lines += ["", "## Entry points", "", "`main` " + main_text + ("" if role in ("stack_lock", "stack_lookup") else "; `validate` checks the settings only")
                  + (". Also: " + "; ".join(entry_points) if entry_points else "") + ".",
                  "", "## Example", "", "```yaml", *HOST_EXAMPLES[role], "```", "",
                  "## Tags", "", ("Its tasks run under every tag (`always`): a run of one part takes the lock too."
                                  if role == "stack_lock" else "It runs inside the roles that need the stack, under their tags."
                                  if role == "stack_lookup" else tags_line(role)), ""]
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
    for role in sorted(path.parent.parent.name for path in (ROOT / "roles").glob("*/meta/argument_specs.yml")):
        path = ROOT / "roles" / role / "README.md"
        text = render(role)
        if "--check" in sys.argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
    if stale:
        sys.exit("out of date (run python scripts/role_docs.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()

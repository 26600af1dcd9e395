#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mysql_app_user
short_description: Keep an application's own MySQL account - its password, its privileges on one database, TLS required
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
extends_documentation_fragment:
  - shop.aws.mysql_server.ADMIN
description:
  - Creates the account when it is missing; gives it the password when the server refuses that
    password for it (the module connects as the account to find out, as the server keeps only a
    hash); gives it exactly I(privileges) on I(database) and nothing else (any other grant,
    global or on another database, is revoked); requires TLS of it when I(require_tls).
  - Runs on a host that reaches the server (for RDS, a host in the VPC - a web instance); needs
    PyMySQL there. The passwords are never logged or returned.
  - Works the same on MySQL 8 and MariaDB (C(SHOW GRANTS), C(mysql.user.ssl_type)).
  - Check mode reports what would change, with a diff, and changes nothing.
options:
  name:
    description: The account's user name.
    type: str
    required: true
  host:
    description: The account's host part.
    type: str
    default: "%"
  password:
    description: The password the account must have.
    type: str
    required: true
  database:
    description: The one database the account may use.
    type: str
    required: true
  privileges:
    description: Its privileges on I(database), as C(GRANT) spells them.
    type: list
    elements: str
    default: [SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES]
  require_tls:
    description: Whether the server refuses the account's connections without TLS (C(REQUIRE SSL)).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The shop's own account on RDS, from a web instance
  shop.aws.mysql_app_user:
    login: {host: "{{ endpoint }}", user: shop_admin, password: "{{ master_password }}", ssl_ca_pem: "{{ rds_ca }}"}
    name: shop_app
    password: "{{ app_password }}"
    database: shop
  no_log: true
"""

RETURN = r"""
created:
  description: Whether the account was (or, in check mode, would be) created.
  returned: always
  type: bool
password_changed:
  description: Whether the server refused the password and the account was given it.
  returned: always
  type: bool
privileges:
  description: The account's privileges on I(database) after the run, sorted.
  returned: always
  type: list
  elements: str
revoked:
  description: The grants taken away (other databases, global privileges), as C(SHOW GRANTS) listed them.
  returned: always
  type: list
  elements: str
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration_db import SERVER_SPEC, connect, pymysql, require_pymysql, rows

ACCESS_DENIED = 1045  # ER_ACCESS_DENIED_ERROR
GRANT_LINE = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<on>\S+) TO ", re.IGNORECASE)
# A privilege as GRANT spells it: words of letters (CREATE TEMPORARY TABLES, SHOW VIEW).
HASH = re.compile(r" IDENTIFIED (BY PASSWORD|VIA \S+ USING) '[^']*'", re.IGNORECASE)
PRIVILEGE = re.compile(r"^[A-Z]+( [A-Z]+)*$")


def unquote(identifier: str) -> str:
    return identifier.strip("`'\"").replace("``", "`")


def parse_grants(lines: list[str], database: str) -> tuple[set[str], list[str]]:
    """The privileges on `database`.* and every other grant line that gives something (USAGE on
    *.* gives nothing: it is the account itself)."""
    on_database, others = set(), []
    for line in lines:
        # MariaDB lists the password's hash in the account's line: never reported.
        line = HASH.sub("", line)
        match = GRANT_LINE.match(line)
        if not match:
            continue
        privileges = {p.strip().upper() for p in match.group("privileges").split(",")}
        schema, table = match.group("on").split(".", 1) if "." in match.group("on") else (match.group("on"), "")
        if unquote(schema) == database and table == "*":
            on_database |= privileges
        elif privileges != {"USAGE"} or " WITH GRANT OPTION" in line.upper():
            others.append(line)
    return on_database, others


def normalise_privileges(module, privileges: list[str]) -> set[str]:
    wanted = {" ".join(p.upper().split()) for p in privileges}
    bad = sorted(p for p in wanted if not PRIVILEGE.match(p) or p in ("ALL", "ALL PRIVILEGES", "GRANT OPTION", "USAGE"))
    if bad or not wanted:
        module.fail_json(msg=f"privileges must name at least one privilege, each as GRANT spells it, not ALL, GRANT OPTION "
                             f"or USAGE (got {privileges})")
    return wanted


def account_exists(connection, name: str, host: str) -> tuple[bool, bool]:
    """(exists, TLS required): mysql.user's row of the account."""
    found = rows(connection, "SELECT ssl_type FROM mysql.user WHERE User = %s AND Host = %s", (name, host))
    if not found:
        return False, False
    ssl_type = found[0][0]
    return True, (ssl_type.decode() if isinstance(ssl_type, bytes) else ssl_type or "") not in ("", "NONE")


def password_accepted(login: dict, name: str, password: str) -> bool:
    """Whether the server lets the account in with the password (the same address and TLS as the
    administrative connection)."""
    try:
        connect({**login, "user": name, "password": password}, "account").close()
        return True
    except ConnectionError as error:
        cause = error.__cause__
        if isinstance(cause, pymysql.err.OperationalError) and cause.args and cause.args[0] == ACCESS_DENIED:
            return False
        raise


def main():
    module = AnsibleModule(
        argument_spec={
            "login": {"type": "dict", "options": SERVER_SPEC, "required": True},
            "name": {"type": "str", "required": True},
            "host": {"type": "str", "default": "%"},
            "password": {"type": "str", "required": True, "no_log": True},
            "database": {"type": "str", "required": True},
            "privileges": {"type": "list", "elements": "str",
                           "default": ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "REFERENCES"]},
            "require_tls": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    require_pymysql(module)
    params = module.params
    name, host, database = params["name"], params["host"], params["database"]
    if name == params["login"]["user"]:
        module.fail_json(msg=f"name ({name!r}) is the administrative account login.user: the application needs an account of its own")
    if not params["password"]:
        module.fail_json(msg=f"password of the account {name!r} is empty")
    wanted = normalise_privileges(module, params["privileges"])
    try:
        admin = connect(params["login"], "server")
        exists, tls_required = account_exists(admin, name, host)
        accepted = exists and password_accepted(params["login"], name, params["password"])
        have, others = (parse_grants([r[0] for r in rows(admin, "SHOW GRANTS FOR %s@%s", (name, host))], database)
                        if exists else (set(), []))
    except ConnectionError as error:
        module.fail_json(msg=str(error))
    except pymysql.MySQLError as error:
        module.fail_json(msg=f"reading the account {name}@{host}: {error}")

    grants_differ = have != wanted or bool(others)
    tls_differs = tls_required != params["require_tls"]
    changed = not exists or not accepted or grants_differ or tls_differs
    result = {
        "changed": changed, "created": not exists, "password_changed": exists and not accepted,
        "privileges": sorted(wanted), "revoked": others,
        "diff": {"before": {"exists": exists, "privileges": sorted(have), "other_grants": others, "require_tls": tls_required,
                            "password": "the given one" if accepted else "another"},
                 "after": {"exists": True, "privileges": sorted(wanted), "other_grants": [], "require_tls": params["require_tls"],
                           "password": "the given one"}},
    }
    if module.check_mode or not changed:
        module.exit_json(**result)

    tls = "REQUIRE SSL" if params["require_tls"] else "REQUIRE NONE"
    grant = f"GRANT {', '.join(sorted(wanted))} ON `{database.replace('`', '``')}`.* TO %s@%s"
    try:
        with admin.cursor() as cursor:
            if not exists:
                cursor.execute(f"CREATE USER %s@%s IDENTIFIED BY %s {tls}", (name, host, params["password"]))
            else:
                if not accepted:
                    cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", (name, host, params["password"]))
                if tls_differs:
                    cursor.execute(f"ALTER USER %s@%s {tls}", (name, host))
                if grants_differ:
                    cursor.execute("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", (name, host))
            if not exists or grants_differ:
                cursor.execute(grant, (name, host))
    except pymysql.MySQLError as error:
        module.fail_json(msg=f"changing the account {name}@{host}: {error}", **{k: v for k, v in result.items() if k != "changed"})
    module.exit_json(**result)


if __name__ == "__main__":
    main()

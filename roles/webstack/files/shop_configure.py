#!/usr/bin/python3
"""shop-configure: the web stack's boot-time configuration.

Runs at every boot (shop-configure.service) and again when the user data has written
/etc/shop/stack.env. The image carries no setting and no secret; this program fetches them
through the instance role and renders them for the application:

1. sizes the PHP-FPM pool from this instance's memory, or its container's limit (/run/shop/fpm.env);
2. reads the stack's settings from SSM (GetParametersByPath under SHOP_SETTINGS_PATH) and the
   database credentials from Secrets Manager (the secret named by the `db-secret-name`
   setting), fetches the CA bundle the database's certificate chains to (the `db-ca-bundle-url`
   setting; a copy fetched before serves when the URL does not answer), reads the Redis AUTH
   token (the secret named by `cache-secret-name`) and the CA bundle of the cache's TLS
   (`cache-ca-bundle-url`; without it, the system's trust store), and writes
   /etc/shop/app.json, readable by the web server's group only;
3. renders the CloudWatch agent configuration with the stack's log group names (and loads
   it into the agent where the agent is installed);
4. runs the current release's setup hook (schema), if it has one.

`shop-configure --refresh-db` does step 2 only: the application asks for it (through
shop-credentials.socket) when the database refuses its password, as it does once the password
has been rotated. A rotation stages the new password (the secret's AWSPENDING version), changes
it on the server, then makes it current (AWSCURRENT), as Secrets Manager's own rotations do:
of the current and the pending password, app.json gets the one the server accepts. Refreshes
asked at once run one at a time, and one that finds app.json rewritten since it was asked does
nothing more.

Without /etc/shop/stack.env (the AMI builder, or an instance whose user data has not run
yet) it does step 1 only and says so. Any failure to read a setting is fatal and names it.
"""

from __future__ import annotations

import argparse
import configparser
import fcntl
import grp
import json
import os
import pwd
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CONF = Path("/etc/shop/configure.conf")
REQUIRED_STACK_KEYS = ("SHOP_STACK", "SHOP_REGION", "SHOP_SETTINGS_PATH")
REQUIRED_SECRET_KEYS = ("username", "password", "host")
CGROUP_MEMORY_FILES = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
REFRESH_LOCK = Path("/run/shop/credentials.lock")
ACCESS_DENIED = 1045  # MySQL's ER_ACCESS_DENIED_ERROR


class ConfigureError(Exception):
    """A setting is missing or unreadable: the message names it."""


def log(message: str) -> None:
    print(f"shop-configure: {message}", flush=True)


# --------------------------------------------------------------------------- pure helpers
def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments, blank lines, quotes)."""
    env = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigureError(f"line {number} of the stack environment is not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def mem_total_mb(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ConfigureError("no MemTotal in /proc/meminfo")


def cgroup_limit_mb(texts: list[str]) -> int | None:
    """The smallest memory limit among cgroup files (v2 memory.max, v1 memory.limit_in_bytes), if any."""
    limits = [int(t.strip()) // (1024 * 1024) for t in texts if t.strip().isdigit()]
    # cgroup v1 writes "no limit" as a number near 2**63.
    limits = [limit for limit in limits if limit < 2**40]
    return min(limits) if limits else None


def instance_memory_mb() -> int:
    """Memory this host may use: the machine's, or less where a container limit applies."""
    memory = mem_total_mb(Path("/proc/meminfo").read_text())
    texts = [p.read_text() for p in CGROUP_MEMORY_FILES if p.exists()]
    limit = cgroup_limit_mb(texts)
    return min(memory, limit) if limit else memory


def fpm_sizing(memory_mb: int, reserved_mb: int, child_mb: int, minimum: int = 2) -> dict[str, int]:
    """PHP-FPM dynamic pool sized so that every child fits in what the system leaves free."""
    children = max(minimum, (memory_mb - reserved_mb) // child_mb)
    spare_min = max(1, children // 4)
    return {
        "SHOP_FPM_MAX_CHILDREN": children,
        "SHOP_FPM_START_SERVERS": spare_min,
        "SHOP_FPM_MIN_SPARE_SERVERS": spare_min,
        "SHOP_FPM_MAX_SPARE_SERVERS": max(spare_min + 1, children // 2),
    }


def settings_from_parameters(parameters: list[dict], path: str) -> dict[str, str]:
    """SSM parameters under `path` as {leaf name: value} (nested names keep their sub-path)."""
    prefix = path if path.endswith("/") else path + "/"
    return {p["Name"][len(prefix):]: p["Value"] for p in parameters if p["Name"].startswith(prefix)}


def check_ca_bundle(text: str, url: str) -> str:
    """The bundle as fetched, if it holds at least one PEM certificate."""
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigureError(f"the CA bundle at {url} holds no PEM certificate")
    return text


CACHE_KEYS = ("cache-endpoint", "cache-secret-name", "cache-ca-bundle-url")


def app_config(stack: dict[str, str], settings: dict[str, str], secret: dict, ssl_ca: str = "",
               cache_secret: dict | None = None, cache_ca: str = "") -> dict:
    missing = [key for key in REQUIRED_SECRET_KEYS if not secret.get(key)]
    if missing:
        raise ConfigureError(f"the database secret {settings.get('db-secret-name')!r} has no {', '.join(missing)}")
    config = {
        "stack": stack["SHOP_STACK"],
        "region": stack["SHOP_REGION"],
        "database": {
            "host": secret["host"],
            "port": int(secret.get("port") or 3306),
            "name": secret.get("dbname") or "shop",
            "user": secret["username"],
            "password": secret["password"],
            "ssl_ca": ssl_ca,
        },
        "cache": {},
        "app": {key.replace("-", "_"): value for key, value in sorted(settings.items())
                if key not in ("db-secret-name", "db-ca-bundle-url", *CACHE_KEYS)},
    }
    endpoint = settings.get("cache-endpoint", "")
    if endpoint:
        host, port = endpoint.rpartition(":")[::2] if endpoint.rsplit(":", 1)[-1].isdigit() else (endpoint, "6379")
        config["cache"] = {"host": host, "port": int(port)}
        if settings.get("cache-secret-name"):
            # An encrypted group with AUTH: TLS, the token, and the CA bundle when not the system's.
            # During a rotation (playbooks/rotate_cache_token.yml) the group accepts the next token
            # beside the current one once the secret's stage is "rotated": from then on, the next.
            cache_secret = cache_secret or {}
            rotated = cache_secret.get("stage") == "rotated" and cache_secret.get("next")
            token = cache_secret["next"] if rotated else cache_secret.get("token", "")
            if not token:
                raise ConfigureError(f"the cache secret {settings['cache-secret-name']!r} has no token")
            config["cache"].update(tls=True, auth=token, ca=cache_ca)
    return config


def render_agent_config(template: str, stack: str) -> str:
    """The CloudWatch agent configuration with this stack's log group names, checked as JSON."""
    rendered = template.replace("${SHOP_STACK}", stack)
    json.loads(rendered)
    return rendered


# --------------------------------------------------------------------------- side effects
def write_atomic(path: Path, content: str, mode: int, group: str | None = None) -> bool:
    """Write only when the content differs; readers never see a half-written file."""
    if path.exists() and path.read_text() == content and (path.stat().st_mode & 0o777) == mode:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        os.fchmod(handle.fileno(), mode)
        if group:
            os.fchown(handle.fileno(), pwd.getpwnam("root").pw_uid, grp.getgrnam(group).gr_gid)
        handle.write(content)
    os.replace(handle.name, path)
    return True


def aws_clients(stack: dict[str, str]):
    import boto3  # imported here: the sizing step needs no AWS library

    kwargs = {"region_name": stack["SHOP_REGION"]}
    if stack.get("SHOP_AWS_ENDPOINT_URL"):
        kwargs["endpoint_url"] = stack["SHOP_AWS_ENDPOINT_URL"]
    return boto3.client("ssm", **kwargs), boto3.client("secretsmanager", **kwargs)


def fetch_settings(ssm, path: str) -> dict[str, str]:
    parameters = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True, WithDecryption=True):
        parameters.extend(page["Parameters"])
    settings = settings_from_parameters(parameters, path)
    if "db-secret-name" not in settings:
        raise ConfigureError(f"no parameter {path.rstrip('/')}/db-secret-name: the stack's settings are not published")
    return settings


def fetch_secret(secrets, name: str) -> dict:
    try:
        return json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
    except (KeyError, ValueError) as error:
        raise ConfigureError(f"the secret {name!r} is not a JSON object with a SecretString") from error


def fetch_pending_password(secrets, name: str) -> str:
    """The password of the secret's AWSPENDING version (a rotation under way), or ''."""
    try:
        return json.loads(secrets.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"]).get("password", "")
    except secrets.exceptions.ResourceNotFoundException:
        return ""
    except (KeyError, ValueError) as error:
        raise ConfigureError(f"the pending version of the secret {name!r} is not a JSON object") from error


def accepted_password(secret: dict, candidates: list[str], ssl_ca: str) -> str:
    """Of the candidates, the first the database accepts for the secret's user; the first when it
    refuses them all, or when it cannot be asked (it is not the password then that fails)."""
    import pymysql

    tls = {"ssl_ca": ssl_ca, "ssl_verify_cert": True, "ssl_verify_identity": True} if ssl_ca else {}
    for password in candidates:
        try:
            pymysql.connect(host=secret["host"], port=int(secret.get("port") or 3306), user=secret["username"],
                            password=password, connect_timeout=5, **tls).close()
            return password
        except pymysql.err.OperationalError as error:
            if error.args[0] != ACCESS_DENIED:
                return candidates[0]
    return candidates[0]


def fetch_ca_bundle(url: str, path: Path, attempts: int = 5, what: str = "the database CA bundle") -> str:
    """The CA bundle at ``url`` written to ``path``; the copy already there when the URL fails."""
    import urllib.request

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the stack's setting, http(s)
            return check_ca_bundle(answer.read().decode("ascii", "replace"), url)

    try:
        bundle = with_retries(f"fetching {what} {url}", fetch, attempts=attempts)
    except ConfigureError:
        if path.exists():
            log(f"could not fetch {url}: using the copy fetched before ({path})")
            return str(path)
        raise
    if write_atomic(path, bundle, 0o644):
        log(f"{what} from {url} in {path}")
    return str(path)


def with_retries(what: str, call, attempts: int = 5, delay: float = 2.0):
    """AWS just after boot (instance profile credentials, network) may take a moment."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ConfigureError:
            raise
        except Exception as error:  # noqa: BLE001 - botocore's errors, reported with their class
            if attempt == attempts:
                raise ConfigureError(f"{what} failed after {attempts} attempts: {type(error).__name__}: {error}") from error
            log(f"{what} failed ({type(error).__name__}), retrying in {delay:.0f} s")
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def systemctl(*args: str) -> None:
    # --no-block: this unit runs before php-fpm at boot; waiting on it would deadlock.
    subprocess.run(["systemctl", "--no-block", *args], check=False)


def run_setup_hook(app_root: Path, php: str, attempts: int) -> None:
    hook = app_root / "current" / "bin" / "setup.php"
    if not hook.exists():
        return
    for attempt in range(1, attempts + 1):
        result = subprocess.run([php, str(hook)], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            log(f"release setup: {result.stdout.strip()}")
            return
        log(f"release setup failed (attempt {attempt}/{attempts}): {(result.stderr or result.stdout).strip()[-300:]}")
        time.sleep(3)
    # Not fatal: the settings are in place and /health reports the database until it answers.
    log("release setup did not complete; /health will report the database")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", type=Path, default=DEFAULT_CONF)
    parser.add_argument("--refresh-db", action="store_true",
                        help="re-read the database credentials only (asked on an authentication failure)")
    args = parser.parse_args(argv)
    conf = configparser.ConfigParser()
    if not conf.read(args.conf):
        log(f"error: cannot read {args.conf}")
        return 2
    if args.refresh_db:
        asked = time.time()
        REFRESH_LOCK.parent.mkdir(parents=True, exist_ok=True)
        with REFRESH_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            app_config_path = Path(conf["paths"]["app_config"])
            if app_config_path.exists() and app_config_path.stat().st_mtime >= asked:
                log("credentials refreshed meanwhile by another request")
                return 0
            return render(conf, refresh=True)
    return render(conf)


def render(conf: configparser.ConfigParser, refresh: bool = False) -> int:
    """The boot-time steps; with ``refresh``, app.json alone, rewritten even when unchanged (its
    time tells the refreshes waiting behind this one that the credentials are fresh)."""
    paths = conf["paths"]
    if not refresh:
        fpm = conf["fpm"]
        sizing = fpm_sizing(instance_memory_mb(), fpm.getint("reserved_mb"), fpm.getint("child_mb"))
        env_text = "".join(f"{key}={value}\n" for key, value in sizing.items())
        if write_atomic(Path(paths["fpm_env"]), env_text, 0o644):
            log(f"PHP-FPM pool sized for this instance: {sizing['SHOP_FPM_MAX_CHILDREN']} children")
            systemctl("try-reload-or-restart", fpm["service"])

    stack_env = Path(paths["stack_env"])
    if not stack_env.exists():
        log(f"no {stack_env} (written by the user data): settings not rendered")
        return 1 if refresh else 0
    try:
        stack = parse_env_file(stack_env.read_text())
        missing = [key for key in REQUIRED_STACK_KEYS if not stack.get(key)]
        if missing:
            raise ConfigureError(f"{stack_env} lacks {', '.join(missing)}")
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # local emulator only; AWS uses the role
            if stack.get(key):
                os.environ[key] = stack[key]
        ssm, secrets = aws_clients(stack)
        settings = with_retries("reading the SSM parameters", lambda: fetch_settings(ssm, stack["SHOP_SETTINGS_PATH"]))
        secret = with_retries("reading the database secret", lambda: fetch_secret(secrets, settings["db-secret-name"]))
        pending = with_retries("reading the database secret's pending version",
                               lambda: fetch_pending_password(secrets, settings["db-secret-name"]))
        ca_url = settings.get("db-ca-bundle-url", "")
        ssl_ca = fetch_ca_bundle(ca_url, Path(paths["db_ca_bundle"])) if ca_url else ""
        if pending and pending != secret.get("password") and secret.get("host") and secret.get("username"):
            chosen = accepted_password(secret, [secret.get("password", ""), pending], ssl_ca)
            if chosen == pending:
                log("the database takes the pending password of a rotation under way")
            secret = {**secret, "password": chosen}
        cache_secret = None
        if settings.get("cache-endpoint") and settings.get("cache-secret-name"):
            cache_secret = with_retries("reading the cache AUTH secret",
                                        lambda: fetch_secret(secrets, settings["cache-secret-name"]))
        cache_ca_url = settings.get("cache-ca-bundle-url", "") if settings.get("cache-endpoint") else ""
        cache_ca = fetch_ca_bundle(cache_ca_url, Path(paths.get("cache_ca_bundle", "/etc/shop/cache-ca-bundle.pem")),
                                   what="the cache CA bundle") if cache_ca_url else ""
        config = app_config(stack, settings, secret, ssl_ca, cache_secret, cache_ca)
    except ConfigureError as error:
        log(f"error: {error}")
        return 1
    app_config_path = Path(paths["app_config"])
    if write_atomic(app_config_path, json.dumps(config, indent=2, sort_keys=True) + "\n", 0o640, paths["app_group"]):
        log(f"rendered {app_config_path} for stack {stack['SHOP_STACK']}")
    elif refresh:
        os.utime(app_config_path)
    if refresh:
        return 0

    template = Path(paths["agent_template"])
    if template.exists():
        agent_config = Path(paths["agent_config"])
        if write_atomic(agent_config, render_agent_config(template.read_text(), stack["SHOP_STACK"]), 0o644):
            log(f"rendered {agent_config}")
            if Path(AGENT_CTL).exists():  # installed on AWS only (webstack_aws_agents)
                subprocess.run([AGENT_CTL, "-a", "fetch-config", "-m", "ec2", "-s", "-c", f"file:{agent_config}"], check=False)

    run_setup_hook(Path(paths["app_root"]), paths["php"], conf["setup"].getint("attempts", 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())

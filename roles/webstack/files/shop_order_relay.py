#!/usr/bin/python3
"""shop-order-relay: the orders the shop records, published to the stack's order topic.

The shop writes an order and its message in one database transaction (the `order_outbox`
table: a transactional outbox), so no order is lost and none is announced that was not
recorded. This relay, one per instance (shop-order-relay.service), takes the unsent messages
with `SELECT ... FOR UPDATE SKIP LOCKED` (the relays of the fleet never take the same row),
publishes each to the SNS topic named by the `order-topic-arn` setting (which feeds the SQS
order queue), and marks it sent in the same transaction. Delivery is at least once: a relay
that dies between the publish and the commit publishes that message again; consumers
deduplicate by `order_id`.

Settings come from /etc/shop/app.json (shop-configure); AWS credentials from the instance
role (locally, the emulator's dummies and endpoint from /etc/shop/stack.env, which the unit
loads). A database that refuses the password (rotated since app.json was written) has the
credentials refreshed through shop-credentials.socket, as the shop's pages do, and the
connection tried once more. Without a topic or a database it says why and exits non-zero:
systemd starts it again.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

APP_CONFIG = Path(os.environ.get("SHOP_APP_CONFIG", "/etc/shop/app.json"))
CREDENTIALS_SOCKET = "/run/shop/credentials.sock"
ACCESS_DENIED = 1045  # MySQL's ER_ACCESS_DENIED_ERROR
BATCH = 25
IDLE_SECONDS = 1.0


def log(message: str) -> None:
    print(f"shop-order-relay: {message}", flush=True)


def relay_once(connection, sns, topic_arn: str) -> int:
    """Publish up to BATCH unsent messages; the number published."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, order_id, payload FROM order_outbox WHERE sent_at IS NULL "
                       "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (BATCH,))
        rows = cursor.fetchall()
        for row_id, order_id, payload in rows:
            sns.publish(TopicArn=topic_arn, Message=payload,
                        MessageAttributes={"order_id": {"DataType": "Number", "StringValue": str(order_id)}})
            cursor.execute("UPDATE order_outbox SET sent_at = CURRENT_TIMESTAMP(6) WHERE id = %s", (row_id,))
    connection.commit()
    return len(rows)


def refresh_credentials(path: str = CREDENTIALS_SOCKET) -> None:
    """shop-configure --refresh-db through its socket; returns once app.json holds the credentials
    (the refresh closes the connection when it ends)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(path)
        while client.recv(1024):
            pass


def connect(db: dict):
    import pymysql

    # Over TLS, the server's certificate and name verified, when the stack publishes its CA bundle.
    tls = {"ssl_ca": db["ssl_ca"], "ssl_verify_cert": True, "ssl_verify_identity": True} if db.get("ssl_ca") else {}
    return pymysql.connect(host=db["host"], port=int(db["port"]), user=db["user"], password=db["password"],
                           database=db["name"], connect_timeout=5, autocommit=False, **tls)


def open_database(config_path: Path, refresh=refresh_credentials):
    """The database of app.json; when it refuses the password, the credentials are refreshed and
    app.json read again for one more try."""
    import pymysql

    try:
        return connect(json.loads(config_path.read_text())["database"])
    except pymysql.err.OperationalError as error:
        if error.args[0] != ACCESS_DENIED:
            raise
        log("the database refused the password: refreshing the credentials")
        refresh()
        return connect(json.loads(config_path.read_text())["database"])


def main() -> int:
    try:
        config = json.loads(APP_CONFIG.read_text())
    except (OSError, ValueError) as error:
        log(f"no settings yet ({APP_CONFIG}: {error})")
        return 1
    topic_arn = config.get("app", {}).get("order_topic_arn", "")
    if not topic_arn:
        log("no order-topic-arn setting: orders stay in order_outbox until one is published")
        return 1
    import boto3

    kwargs = {"region_name": config["region"]}
    if os.environ.get("SHOP_AWS_ENDPOINT_URL"):
        kwargs["endpoint_url"] = os.environ["SHOP_AWS_ENDPOINT_URL"]
    sns = boto3.client("sns", **kwargs)
    connection = open_database(APP_CONFIG)
    log(f"relaying order messages to {topic_arn}")
    while True:
        if relay_once(connection, sns, topic_arn) == 0:
            time.sleep(IDLE_SECONDS)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001 - said in the journal; systemd restarts the relay
        log(f"stopped: {type(error).__name__}: {error}")
        sys.exit(1)

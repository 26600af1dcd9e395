"""Fixtures of the web-stack scenario: the web host, the database host and the emulator."""

import json
import os
import subprocess
from pathlib import Path

import boto3
import pytest
import testinfra

STACK = "shop-molecule"
EMULATOR = "http://127.0.0.1:5098"
SCENARIO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def web():
    return testinfra.get_host("podman://webstack-web")


@pytest.fixture(scope="session")
def db():
    return testinfra.get_host("podman://webstack-db")


@pytest.fixture(scope="session")
def secret():
    """The database credentials as the scenario stored them in the emulator's Secrets Manager."""
    client = boto3.client("secretsmanager", endpoint_url=EMULATOR, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return json.loads(client.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])


def run_playbook(name: str) -> subprocess.CompletedProcess:
    """Run a playbook of the scenario on Molecule's inventory, as Molecule's own steps do."""
    return subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(SCENARIO / name)],
        capture_output=True, text=True, check=False, timeout=600,
    )

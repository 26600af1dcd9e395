"""One retry style across the collection's modules (plugins/module_utils/calls.py): clients made
by calls.client, single calls given aws_retry=True, paginated reads through calls.paginate,
extra error codes through calls.retry_on; no decorated helpers, no bare clients or paginators."""

import ast
from pathlib import Path

import pytest

MODULES = sorted((Path(__file__).resolve().parents[3] / "plugins/modules").glob("*.py"))
AWS_MODULES = [path for path in MODULES if "AnsibleAWSModule" in path.read_text()]


def test_there_are_aws_modules_to_check():
    assert len(AWS_MODULES) >= 10


@pytest.mark.parametrize("path", AWS_MODULES, ids=lambda path: path.name)
def test_aws_calls_follow_the_one_retry_style(path):
    tree = ast.parse(path.read_text())
    broken = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "AWSRetry":
            broken.append(f"line {node.lineno}: AWSRetry used directly (use calls.client / calls.retry_on)")
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        target, method = node.func.value, node.func.attr
        if method == "get_paginator":
            broken.append(f"line {node.lineno}: a paginator used directly (use calls.paginate)")
        if method == "client" and isinstance(target, ast.Name) and target.id == "module" or (
                method == "client" and isinstance(target, ast.Attribute) and target.attr == "module"):
            broken.append(f"line {node.lineno}: module.client (use calls.client)")
        # A call on a client (client.x(...), self.client.x(...), self.client("svc").x(...)) retries.
        on_client = (isinstance(target, ast.Name) and target.id in ("client", "ec2")
                     or isinstance(target, ast.Attribute) and target.attr == "client"
                     or isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute) and target.func.attr == "client")
        if on_client and not any(keyword.arg == "aws_retry" for keyword in node.keywords):
            broken.append(f"line {node.lineno}: client.{method}(...) without aws_retry=True")
    assert broken == [], f"{path.name}: " + "; ".join(broken)

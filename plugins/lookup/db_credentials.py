# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: a database's credentials from its Secrets Manager secret, the password from RDS's own secret when RDS manages it."""

DOCUMENTATION = r"""
name: db_credentials
short_description: A database's credentials from Secrets Manager, following RDS's managed master password
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Reads a secret holding a JSON object of connection settings (C(host), C(port), C(username),
    C(password), C(dbname)...) and returns it as a mapping.
  - When the object names C(masterUserSecretArn) (the database role writes it once RDS manages the
    master password), the C(username) and C(password) come from that secret, RDS's
    C(rds!db-<id>), whose current version is the password RDS last rotated to.
  - The secrets' values are never shown.
options:
  _terms:
    description: Names or ARNs of secrets.
    required: true
  on_missing:
    description: What to return for a secret that does not exist or is scheduled for deletion - C(error), or C(skip) (an empty mapping).
    type: str
    choices: [error, skip]
    default: error
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Read the master credentials of the stack's database
  ansible.builtin.set_fact:
    master: "{{ lookup('shop.aws.db_credentials', 'shop-production/db', **aws_connection) }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One mapping per secret, with C(username) and C(password) taken from RDS's secret when it manages them.
  type: list
  elements: dict
"""

import json

from contextlib import suppress

with suppress(ImportError):  # AWSLookupBase reports the missing botocore
    import botocore

from ansible.errors import AnsibleLookupError
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase

# Secrets Manager's words for a secret scheduled for deletion (API reference, GetSecretValue errors).
DELETED = "marked for deletion"


class LookupModule(AWSLookupBase):
    def run(self, terms, variables, **kwargs):
        super().run(terms, variables, **kwargs)
        on_missing = self.get_option("on_missing")
        if on_missing not in ("error", "skip"):
            raise AnsibleLookupError(f"db_credentials: on_missing must be error or skip, not {on_missing!r}")
        client = self.client("secretsmanager", AWSRetry.jittered_backoff())
        return [self._credentials(client, str(term), on_missing) for term in terms]

    @staticmethod
    def _read(client, secret_id: str, on_missing: str, what: str):
        try:
            value = client.get_secret_value(aws_retry=True, SecretId=secret_id)["SecretString"]
        except is_boto3_error_code("ResourceNotFoundException"):
            if on_missing == "skip":
                return None
            raise AnsibleLookupError(f"db_credentials: no secret {secret_id} ({what})") from None
        except is_boto3_error_code("InvalidRequestException") as error:  # pylint: disable=duplicate-except
            if DELETED in str(error) and on_missing == "skip":
                return None
            raise AnsibleLookupError(f"db_credentials: the secret {secret_id} ({what}) cannot be read: {error}") from error
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:  # pylint: disable=duplicate-except
            raise AnsibleLookupError(f"db_credentials: could not read the secret {secret_id} ({what}): {error}") from error
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise AnsibleLookupError(f"db_credentials: the secret {secret_id} ({what}) is not a JSON object")
        return parsed

    def _credentials(self, client, name: str, on_missing: str) -> dict:
        settings = self._read(client, name, on_missing, "the database's credentials")
        if settings is None:
            return {}
        managed = settings.get("masterUserSecretArn")
        if not managed:
            return settings
        # RDS deletes its secret with the instance (RDS User Guide, "Password management with
        # Amazon RDS and AWS Secrets Manager"): a missing one is an error whatever on_missing says.
        master = self._read(client, managed, "error", f"the master password RDS manages, named by {name}")
        if not master.get("username") or not master.get("password"):
            raise AnsibleLookupError(f"db_credentials: the secret {managed} (named by {name}) has no username and password")
        return {**settings, "username": master["username"], "password": master["password"]}

"""The emulator's Secrets Manager as its API reference describes it (tools/emulator/services/
secretsmanager.py): a secret scheduled for deletion refuses its value with AWS's words, and
comes back as it was once restored."""

import pytest
from botocore.exceptions import ClientError


def test_a_secret_scheduled_for_deletion_is_refused_as_aws_refuses_it_and_restored_as_it_was(emulator):
    secrets = emulator.client("secretsmanager")
    secrets.create_secret(Name="scheduled/db", SecretString='{"password": "kept"}')
    secrets.delete_secret(SecretId="scheduled/db", RecoveryWindowInDays=7)
    assert "DeletedDate" in secrets.describe_secret(SecretId="scheduled/db")
    for call in (lambda: secrets.get_secret_value(SecretId="scheduled/db"),
                 lambda: secrets.put_secret_value(SecretId="scheduled/db", SecretString="{}")):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"] == {
            "Code": "InvalidRequestException",
            "Message": "You can't perform this operation on the secret because it was marked for deletion."}
    secrets.restore_secret(SecretId="scheduled/db")
    assert secrets.get_secret_value(SecretId="scheduled/db")["SecretString"] == '{"password": "kept"}'
    secrets.delete_secret(SecretId="scheduled/db", ForceDeleteWithoutRecovery=True)


def test_moving_awscurrent_changes_the_value_read_without_a_stage(emulator):
    secrets = emulator.client("secretsmanager")
    created = secrets.create_secret(Name="staged/db", SecretString='{"password": "old"}')
    secrets.put_secret_value(SecretId="staged/db", ClientRequestToken="a" * 36, SecretString='{"password": "new"}',
                             VersionStages=["AWSPENDING"])
    assert secrets.get_secret_value(SecretId="staged/db")["SecretString"] == '{"password": "old"}'
    assert secrets.get_secret_value(SecretId="staged/db", VersionStage="AWSPENDING")["SecretString"] == '{"password": "new"}'
    secrets.update_secret_version_stage(SecretId="staged/db", VersionStage="AWSCURRENT", MoveToVersionId="a" * 36,
                                        RemoveFromVersionId=created["VersionId"])
    assert secrets.get_secret_value(SecretId="staged/db")["SecretString"] == '{"password": "new"}'
    assert secrets.get_secret_value(SecretId="staged/db", VersionStage="AWSPREVIOUS")["SecretString"] == '{"password": "old"}'
    secrets.delete_secret(SecretId="staged/db", ForceDeleteWithoutRecovery=True)

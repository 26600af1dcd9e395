"""Secrets Manager in the emulator: fixes to moto 5.2.

- GetSecretValue, PutSecretValue, UpdateSecret and RotateSecret on a secret scheduled for
  deletion fail with InvalidRequestException (Secrets Manager API reference, each operation's
  errors: "The secret is scheduled for deletion") and AWS's message, "You can't perform this
  operation on the secret because it was marked for deletion." moto 5.2 says "...currently
  marked deleted", which clients that tell the case by AWS's words (amazon.aws's
  secretsmanager_secret lookup, on_deleted) do not recognise.
- UpdateSecretVersionStage moving AWSCURRENT makes that version the one GetSecretValue answers
  without a VersionId or VersionStage ("Secrets Manager defaults to AWSCURRENT", API reference,
  GetSecretValue); moto 5.2 kept answering the version that was current before the move.
"""

from __future__ import annotations

AWS_MESSAGE = "You can't perform this operation on the secret because it was marked for deletion."


def install() -> None:
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    def with_awss_message(original):
        def operation(self, secret_id, *args, **kwargs):
            if self._is_valid_identifier(secret_id) and getattr(self.secrets[secret_id], "is_deleted", bool)():
                raise InvalidRequestException(AWS_MESSAGE)  # moto 5.2 lets PutSecretValue through
            try:
                return original(self, secret_id, *args, **kwargs)
            except InvalidRequestException as error:
                if "currently marked deleted" in str(error.message):
                    raise InvalidRequestException(AWS_MESSAGE) from error
                raise
        return operation

    for name in ("get_secret_value", "put_secret_value", "update_secret", "rotate_secret"):
        setattr(SecretsManagerBackend, name, with_awss_message(getattr(SecretsManagerBackend, name)))

    original_stage = SecretsManagerBackend.update_secret_version_stage

    def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        answer = original_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return answer

    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage

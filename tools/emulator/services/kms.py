"""KMS in the emulator: fixes to moto 5.2.

- EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion take the key ID or the key
  ARN, as every KMS operation that names a key does (KMS API reference, each operation's
  "KeyId ... Specify the key ID or key ARN of the KMS key"); moto 5.2 fails with an internal
  error on an ARN. amazon.aws.kms_key names the key by ARN.
- A key under an ``alias/aws/`` alias is an AWS managed key: ``KeyManager`` ``AWS`` (KMS
  developer guide, "AWS managed keys": their aliases are aws/<service>, a prefix reserved to
  AWS); moto 5.2 makes the ones it creates itself (EBS's default key) ``CUSTOMER``.
"""

from __future__ import annotations


def install() -> None:
    from moto.kms.models import KmsBackend

    def by_id_or_arn(original):
        def operation(self, key_id, *args, **kwargs):
            return original(self, self.get_key_id(key_id), *args, **kwargs)
        return operation

    original_create_alias = KmsBackend.create_alias

    def create_alias(self, target_key_id, alias_name):
        alias = original_create_alias(self, target_key_id, alias_name)
        if alias_name.startswith("alias/aws/"):
            self.keys[self.get_key_id(target_key_id)].key_manager = "AWS"
        return alias

    KmsBackend.create_alias = create_alias
    for name in ("enable_key", "disable_key", "schedule_key_deletion", "cancel_key_deletion"):
        setattr(KmsBackend, name, by_id_or_arn(getattr(KmsBackend, name)))

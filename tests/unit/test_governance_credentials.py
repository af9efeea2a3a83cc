"""Sealed credentials: Fernet keys from the environment or a key file, rotation without losing a secret."""

import stat

import pytest
from cryptography.fernet import Fernet

from pipeline.config import Settings
from pipeline.governance.credentials import (
    CredentialsUnavailable,
    Keyring,
    is_secret,
    key_file,
    keyring,
    split,
)


def test_secrets_are_told_apart_from_settings():
    plain, secrets = split({"appid": "wx1", "secret": "s", "api_base_url": "u", "Access_Token": "t"})
    assert plain == {"appid": "wx1", "api_base_url": "u"} and secrets == {"secret": "s", "Access_Token": "t"}
    assert is_secret("webhook_secret") and not is_secret("webhook_url")


def test_sealed_secrets_open_only_with_the_right_key_and_never_show_in_the_token():
    ring = Keyring((Fernet.generate_key(),), "test")
    token = ring.seal({"secret": "app-secret-42"})
    assert "app-secret-42" not in token
    assert ring.open(token) == {"secret": "app-secret-42"}
    with pytest.raises(CredentialsUnavailable, match="cannot be opened with the key"):
        Keyring((Fernet.generate_key(),), "other").open(token)


def test_a_new_key_first_still_opens_old_tokens_and_reseals_them():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Keyring((old,), "old").seal({"access_token": "t"})
    both = Keyring((new, old), "both")
    resealed = both.reseal(token)
    assert Keyring((new,), "new").open(resealed) == {"access_token": "t"}
    with pytest.raises(CredentialsUnavailable):
        Keyring((new,), "new").open(token)


def test_keys_from_the_environment_comma_separated_newest_first():
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ring = keyring(Settings(secret_key=f"{first}, {second}"))
    assert ring.keys == (first.encode(), second.encode()) and ring.source == "CK_SECRET_KEY"
    with pytest.raises(CredentialsUnavailable, match="not a Fernet key"):
        keyring(Settings(secret_key="not-a-key"))


def test_a_key_file_is_created_private_on_first_use_and_reread_when_it_changes(tmp_path):
    settings = Settings(data_dir=tmp_path)
    path = key_file(settings)
    assert path == tmp_path / "keys" / "secret.key" and not path.exists()
    ring = keyring(settings)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring(settings) == ring  # the same file, the same keys
    fresh = Fernet.generate_key().decode()
    path.write_text(fresh + "\n" + ring.keys[0].decode() + "\n")
    assert keyring(settings).keys == (fresh.encode(), ring.keys[0])

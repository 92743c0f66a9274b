"""Credentials are encrypted at rest; a wrong key fails clearly; concurrent refreshers see each other's writes."""

import os
import stat
import threading

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from walmart_accounting.store.crypto import Cipher, CredentialError
from walmart_accounting.store.models import Credential
from walmart_accounting.store.store import Store

SECRET = "rt-SUPER-SECRET-refresh-token-0123456789"


@pytest.fixture
def store(database_url, monkeypatch):
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    store = Store.open(database_url, migrate=True)
    yield store
    store.dispose()


def test_ciphertext_does_not_contain_the_secret(store):
    store.save_credential("xero", {"refresh_token": SECRET, "tenant_id": "t-1"})
    with store.session() as session:
        blob = session.execute(select(Credential.ciphertext).where(Credential.name == "xero")).scalar_one()
    assert SECRET.encode() not in blob and b"refresh_token" not in blob
    assert store.load_credential("xero") == {"refresh_token": SECRET, "tenant_id": "t-1"}


def test_wrong_key_fails_clearly_without_leaking(store, database_url, monkeypatch):
    store.save_credential("exact", {"refresh_token": SECRET})
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    other = Store.open(database_url, migrate=True)
    with pytest.raises(CredentialError) as info:
        other.load_credential("exact")
    message = str(info.value)
    assert "stored with a different key" in message and "WALMART_ACCOUNTING_SECRET_KEY" in message
    assert SECRET not in message
    other.dispose()


def test_rotated_keys_still_decrypt(store, database_url, monkeypatch):
    old = os.environ["WALMART_ACCOUNTING_SECRET_KEY"]
    store.save_credential("xero", {"refresh_token": SECRET})
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", f"{Fernet.generate_key().decode()},{old}")
    rotated = Store.open(database_url, migrate=True)
    assert rotated.load_credential("xero")["refresh_token"] == SECRET
    rotated.dispose()


def test_malformed_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", "not-a-key")
    with pytest.raises(CredentialError, match="not a valid Fernet key"):
        Cipher.from_environment(tmp_path)


def test_local_key_is_generated_once_with_mode_0600(monkeypatch, tmp_path):
    monkeypatch.delenv("WALMART_ACCOUNTING_SECRET_KEY", raising=False)
    first = Cipher.from_environment(tmp_path)
    key_path = tmp_path / "walmart_accounting.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    token = first.encrypt(b"x")
    assert Cipher.from_environment(tmp_path).decrypt(token, "x") == b"x"
    key_path.chmod(0o644)
    with pytest.raises(CredentialError, match="readable by others"):
        Cipher.from_environment(tmp_path)


def test_refresh_under_lock_rereads_so_one_refresh_wins(store):
    """Two workers holding the same old refresh token: the second sees the first's new token and does not refresh."""
    store.save_credential("exact", {"refresh_token": "rt-0", "generation": 0})
    refreshes = []
    barrier = threading.Barrier(2)

    def refresher():
        barrier.wait()
        with store.locked_credential("exact") as cred:
            if cred.value["generation"] == 0:  # still the old token: refresh it
                refreshes.append(threading.get_ident())
                cred.replace({"refresh_token": "rt-1", "generation": 1})

    threads = [threading.Thread(target=refresher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refreshes) == 1
    assert store.load_credential("exact") == {"refresh_token": "rt-1", "generation": 1}

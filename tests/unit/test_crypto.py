import pytest

from booking.crypto import Keyring, KeyringError, generate_key, key_id_of
from booking.models.meta import Base
from booking.models.types import EncryptedString
from booking.services.data_keys import encrypted_columns
from booking.settings import SettingsError, parse_settings

OLD = generate_key("k1")
NEW = generate_key("k2")


def test_encrypted_value_reads_back_and_names_its_key():
    keyring = Keyring.parse(f"{NEW},{OLD}")
    stored = keyring.encrypt("+33 6 12 34 56 78", "users.phone")
    assert stored.startswith("enc:v1:k2:") and "12 34" not in stored
    assert key_id_of(stored) == "k2"
    assert keyring.decrypt(stored, "users.phone") == "+33 6 12 34 56 78"


def test_same_value_encrypts_differently_each_time():
    keyring = Keyring.parse(NEW)
    assert keyring.encrypt("x", "users.phone") != keyring.encrypt("x", "users.phone")


def test_every_key_decrypts_only_the_first_encrypts():
    old_value = Keyring.parse(OLD).encrypt("secret", "bookings.note")
    both = Keyring.parse(f"{NEW},{OLD}")
    assert both.decrypt(old_value, "bookings.note") == "secret"
    assert key_id_of(both.encrypt("secret", "bookings.note")) == "k2"


def test_value_moved_to_another_column_does_not_decrypt():
    keyring = Keyring.parse(NEW)
    stored = keyring.encrypt("secret", "bookings.note")
    with pytest.raises(KeyringError, match="moved from another column"):
        keyring.decrypt(stored, "users.phone")


def test_value_relabelled_with_another_key_id_does_not_decrypt():
    _, _, k2_secret = NEW.partition(":")
    keyring = Keyring.parse(f"{NEW},k1:{k2_secret}")
    stored = keyring.encrypt("secret", "users.phone").replace("enc:v1:k2:", "enc:v1:k1:")
    with pytest.raises(KeyringError):
        keyring.decrypt(stored, "users.phone")


def test_value_under_a_dropped_key_names_the_key():
    stored = Keyring.parse(OLD).encrypt("secret", "users.phone")
    with pytest.raises(KeyringError, match="'k1'"):
        Keyring.parse(NEW).decrypt(stored, "users.phone")


def test_legacy_plaintext_reads_as_it_is():
    assert Keyring.parse(NEW).decrypt("+44 20 7946 0000", "users.phone") == "+44 20 7946 0000"


@pytest.mark.parametrize("text, words", [
    ("", "no data key"),
    ("k1", "<id>:<base64"),
    ("bad id!:AAAA", "<id>:<base64"),
    ("k1:c2hvcnQ=", "needs 32"),
    ("k1:***", "base64"),
    (f"{NEW},{NEW}", "twice"),
])
def test_malformed_keys_are_refused(text, words):
    with pytest.raises(KeyringError, match=words):
        Keyring.parse(text)


def test_data_keys_come_from_the_environment_first():
    settings = parse_settings({"sqlalchemy.url": "sqlite://", "booking.data_keys": OLD},
                              {"BOOKING_DATA_KEYS": NEW})
    assert settings["booking.data_keys"].current == "k2"


def test_required_data_keys_must_come_from_the_environment():
    with pytest.raises(SettingsError, match="BOOKING_DATA_KEYS"):
        parse_settings({"sqlalchemy.url": "sqlite://", "booking.data_keys": NEW,
                        "booking.require_data_keys": "true"}, {})


def test_every_encrypted_column_is_bound_to_its_own_place():
    places = {column.type.place: f"{table.name}.{column.name}"
              for table, column in encrypted_columns(Base.metadata)}
    assert places and all(place == where for place, where in places.items())
    assert {"users.phone", "bookings.contact_phone", "bookings.note"} <= set(places)


def test_encrypted_string_needs_its_place():
    with pytest.raises(ValueError, match="table.column"):
        EncryptedString("phone")

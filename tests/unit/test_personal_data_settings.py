"""Masks, pseudonyms and the personal-information settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from market.common.masking import mask_contact, mask_name, pseudonym
from market.settings import Settings

SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def production(**over: str) -> Settings:
    return Settings.model_validate(
        {
            "mode": "production",
            "database_url": "postgresql+asyncpg://db/x",
            "jwt_secret": "s" * 40,
            "root_secret": SEED,
            **over,
        }
    )


@pytest.mark.parametrize(
    ("name", "masked"),
    [("李四", "李*"), ("欧阳娜娜", "欧***"), ("王", "王*"), ("John Smith", "J*** S****"), ("", "*")],
)
def test_names_keep_only_their_first_characters(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_contacts_keep_only_their_edges() -> None:
    assert mask_contact("13812345678") == "138****5678"
    assert mask_contact("wang.wu@mail.example.cn") == "w***@mail.example.cn"


def test_pseudonyms_are_keyed_and_domain_separated() -> None:
    a, b = b"k" * 32, b"j" * 32
    assert pseudonym(a, "contact", "x") == pseudonym(a, "contact", "x")
    assert pseudonym(a, "contact", "x") != pseudonym(b, "contact", "x")
    assert pseudonym(a, "contact", "x") != pseudonym(a, "participant", "x")


def test_the_pseudonym_key_is_configured_or_derived_from_the_signing_key() -> None:
    derived = Settings(signing_key=SEED).pseudonym_key()
    assert (
        len(derived) == 32 and derived != Settings(signing_key=SEED, personal_data_key=SEED).pseudonym_key()
    )
    with pytest.raises(ValidationError, match="MARKET_PERSONAL_DATA_KEY"):
        Settings(personal_data_key="short")


def test_production_sends_no_codes_to_the_log() -> None:
    assert production(signing_key=SEED).effective_contact_sender() == "disabled"
    assert Settings(mode="embedded").effective_contact_sender() == "log"
    with pytest.raises(ValidationError, match="MARKET_CONTACT_SENDER"):
        production(signing_key=SEED, contact_sender="log")


def test_the_warning_comes_before_the_deadline() -> None:
    with pytest.raises(ValidationError, match="WARNING_WORKING_DAYS"):
        Settings(subject_request_working_days=5, subject_request_warning_working_days=5)

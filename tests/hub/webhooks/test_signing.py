"""Standard Webhooks signatures against the spec's published test vector."""

from __future__ import annotations

import base64

from hub.webhooks import signing

# The test vector published with the Standard Webhooks specification.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_matches_the_spec_vector() -> None:
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_any_change_changes_the_signature() -> None:
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP + 1, BODY) != SIGNATURE
    assert signing.sign(SECRET, MSG_ID + "x", TIMESTAMP, BODY) != SIGNATURE
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY + b" ") != SIGNATURE
    assert signing.sign(signing.new_secret(), MSG_ID, TIMESTAMP, BODY) != SIGNATURE


def test_headers_carry_one_signature_per_secret_in_order() -> None:
    other = signing.new_secret()
    result = signing.headers([other, SECRET], MSG_ID, TIMESTAMP, BODY)
    assert result["webhook-id"] == MSG_ID
    assert result["webhook-timestamp"] == str(TIMESTAMP)
    first, second = result["webhook-signature"].split(" ")
    assert first == signing.sign(other, MSG_ID, TIMESTAMP, BODY)
    assert second == SIGNATURE


def test_new_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one != two
    assert one.startswith("whsec_")
    assert len(base64.b64decode(one.removeprefix("whsec_"), validate=True)) == 32

"""The gateway → Rasa signature: what the Rasa input channel accepts and refuses."""

from __future__ import annotations

import time

from hotline.hop_signature import SIGNATURE_HEADER, SignatureVerifier, signed_headers

SECRET = "a-shared-secret-of-enough-length"
BODY = b'{"sender": "web:a", "message": "hi"}'


def test_a_fresh_signature_is_accepted_once() -> None:
    verifier = SignatureVerifier(SECRET, max_age=60)
    headers = signed_headers(SECRET, BODY)
    assert verifier.problem(headers, BODY) is None
    assert verifier.problem(headers, BODY) == "replayed request"


def test_the_same_text_signed_twice_is_two_messages() -> None:
    verifier = SignatureVerifier(SECRET)
    assert verifier.problem(signed_headers(SECRET, BODY), BODY) is None
    assert verifier.problem(signed_headers(SECRET, BODY), BODY) is None


def test_wrong_secret_tampered_body_old_or_future_timestamp_and_missing_headers_are_refused() -> None:
    verifier = SignatureVerifier(SECRET, max_age=60)
    assert verifier.problem(signed_headers("another-secret-entirely-here", BODY), BODY) == "invalid signature"
    assert verifier.problem(signed_headers(SECRET, BODY), BODY + b" ") == "invalid signature"
    for skew in (-120, 120):
        headers = signed_headers(SECRET, BODY, now=time.time() + skew)
        assert verifier.problem(headers, BODY) == "stale or invalid timestamp"
    assert verifier.problem({}, BODY) == "missing signature"
    forged = {**signed_headers(SECRET, BODY), SIGNATURE_HEADER: "0" * 64}
    assert verifier.problem(forged, BODY) == "invalid signature"

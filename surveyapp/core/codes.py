"""Tokens and short codes: generation, check character, keyed hashes.

* A token is 128 random bits (``secrets.token_urlsafe(16)``), the last part of the
  personal URL ``BASE_URL/s/<token>`` encoded in the letter's QR code.
* A short code is what people type by hand at ``BASE_URL/s``: nine random characters
  and a check character from a 29-symbol alphabet without look-alikes (Crockford's
  base 32 without 0, 1, Z, so no O/0, I/1/L, U/V or Z/2 confusion), printed as
  ``ABCDE-FGHJK``. 29^9 ≈ 1.5·10^13
  codes (43.7 bits) is enough against guessing because lookups are rate-limited.
* Check character: weights 1..10 on the positions, the weighted sum of all ten symbol
  values is ≡ 0 (mod 29). As 29 is prime and every weight is below 29, changing one
  symbol changes the sum by w·Δ ≢ 0, and swapping neighbours i, i+1 changes it by
  (a − b) ≢ 0: every single substitution and adjacent transposition is detected (the
  same argument as ISO 7064 pure systems and the ISBN-10 check digit).
* Only keyed hashes are stored: HMAC-SHA256 with ``security.derive_key("token")``; a
  code's hash uses a ``code:`` prefix so a code can never match a token's hash.
"""

import hashlib
import hmac
import re
import secrets

from surveyapp.security import derive_key

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
MODULUS = len(ALPHABET)  # 29, prime
CODE_DATA_LENGTH = 9
CODE_LENGTH = CODE_DATA_LENGTH + 1
TOKEN_BYTES = 16
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_SEPARATORS = re.compile(r"[\s\-_.·–—]+")
# Letters not in the alphabet that people type for a symbol that is.
_LOOK_ALIKES = str.maketrans({"U": "V", "Z": "2"})


def generate_token() -> str:
    """A new random token of 128 bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _keyed_hash(message: str) -> str:
    return hmac.new(derive_key("token"), message.encode(), hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    """The keyed hash stored in ``respondents.token_hash``."""
    return _keyed_hash(f"token:{token}")


def hash_code(code: str) -> str:
    """The keyed hash of a normalised short code (``respondents.short_code_hash``)."""
    return _keyed_hash(f"code:{normalise_code(code)}")


def check_character(data: str) -> str:
    """The character that makes the weighted sum of ``data`` + it ≡ 0 (mod 29)."""
    total = sum(weight * _VALUE[symbol] for weight, symbol in enumerate(data, 1))
    weight = len(data) + 1
    # value * weight ≡ -total (mod 29); the inverse exists because 29 is prime.
    value = (-total * pow(weight, -1, MODULUS)) % MODULUS
    return ALPHABET[value]


def generate_code() -> str:
    """A new short code (normalised form, without the dash)."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(CODE_DATA_LENGTH))
    return data + check_character(data)


def normalise_code(text: str) -> str:
    """Upper case without spaces or dashes; U and Z (never printed) read as V and 2."""
    cleaned = _SEPARATORS.sub("", text or "").upper()
    return cleaned.translate(_LOOK_ALIKES) if cleaned else cleaned


def is_valid_code(text: str) -> bool:
    """Whether ``text`` (normalised) is a well-formed code with a correct check character."""
    code = normalise_code(text)
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        return False
    total = sum(weight * _VALUE[symbol] for weight, symbol in enumerate(code, 1))
    return total % MODULUS == 0


def format_code(code: str) -> str:
    """``ABCDEFGHJK`` → ``ABCDE-FGHJK`` (how it is printed)."""
    code = normalise_code(code)
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"

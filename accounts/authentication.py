"""Token authentication that judges the key's shape before the database sees it, and asks the
token cache (accounts/token_cache.py) before the database."""

import re

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts import token_cache

# DRF's keys are 40 hex digits. Anything that is not at most 40 visible ASCII characters cannot
# be one, and PostgreSQL answers a NUL byte in a query with an error (a 500), not a miss.
TOKEN_KEY = re.compile(r"[!-~]{1,40}")


class StrictTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        if not TOKEN_KEY.fullmatch(key):
            raise AuthenticationFailed("Invalid token.")
        if not token_cache.enabled():
            return super().authenticate_credentials(key)
        return token_cache.authenticate(key, super().authenticate_credentials)

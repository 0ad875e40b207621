"""Token issue and revocation."""

from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token

from accounts.exceptions import InvalidCredentials


def token_issue(*, username: str, password: str) -> Token:
    """The user's token (created on first login). Raises InvalidCredentials."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: AbstractBaseUser) -> None:
    Token.objects.filter(user=user).delete()

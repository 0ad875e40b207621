from core.exceptions import ShopError


class InvalidCredentials(ShopError):
    code = "authentication_failed"
    status_code = 401
    default_message = "Unable to log in with the provided credentials."

"""Change a user or its token from a process of its own, as an operator's command beside the
workers would (tests/accounts/test_token_cache_embedded.py).

`python -m tests.accounts.change_user '{"username": "customer1", "change": "deactivate"}'`, run
through `tests.support.django_process.run_module`; answers what it did.
"""


def change(username: str, what: str) -> str:
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    user = User.objects.get(username=username)
    if what == "delete_token":
        Token.objects.filter(user=user).delete()
    elif what == "deactivate":
        user.is_active = False
        user.save()
    elif what == "delete_user":
        user.delete()
    elif what in ("grant_staff", "revoke_staff"):
        user.is_staff = what == "grant_staff"
        user.save()
    else:
        raise ValueError(f"unknown change {what!r}")
    return what


def main() -> None:
    import django

    from tests.support.django_process import answer, arguments

    django.setup()
    args = arguments()
    answer(change(args["username"], args["change"]))


if __name__ == "__main__":
    main()

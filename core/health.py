"""GET /health: can this server answer, and can it reach its database."""

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.errors import RETRY_AFTER_SECONDS, error_body
from core.views import ShopAPIView

HealthOutput = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.CharField()),
        "version": serializers.CharField(),
    },
)


def database_check() -> str:
    """ "ok", or why the database cannot answer a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return reason[:200]
    return "ok"


class HealthApi(ShopAPIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthOutput, 503: HealthOutput})
    def get(self, request):
        database = database_check()
        if database == "ok":
            return Response(
                {"status": "ok", "checks": {"database": "ok"}, "version": settings.VERSION}
            )
        body = {
            "status": "unavailable",
            "checks": {"database": database},
            "version": settings.VERSION,
            **error_body("unavailable", "The database cannot be reached.", {"database": database}),
        }
        return Response(body, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})

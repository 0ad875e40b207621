from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts import services
from accounts.exceptions import InvalidCredentials
from accounts.throttling import LoginFailureThrottle
from core.errors_schema import ERROR_RESPONSES
from core.fields import StrictSerializer, TextField
from core.views import ShopAPIView


class TokenInputSerializer(StrictSerializer):
    username = TextField(max_length=150)
    password = TextField(max_length=128, trim_whitespace=False)


class TokenApi(ShopAPIView):
    throttle_classes = [LoginFailureThrottle]

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def get_throttles(self):
        # The same instances for the check and for post(), which gives back their reservation.
        if self.request.method != "POST":
            return []
        if not hasattr(self, "_throttles"):
            self._throttles = [throttle() for throttle in self.throttle_classes]
        return self._throttles

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request):
        # The throttle reserved a place for this attempt; only a wrong password keeps it.
        failed = False
        try:
            data = TokenInputSerializer.validated(request.data)
            token = services.token_issue(**data)
        except InvalidCredentials:
            failed = True
            raise
        finally:
            if not failed:
                for throttle in self.get_throttles():
                    throttle.release()
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None, **ERROR_RESPONSES})
    def delete(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

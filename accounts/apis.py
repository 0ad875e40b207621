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
        return (
            [throttle() for throttle in self.throttle_classes]
            if self.request.method == "POST"
            else []
        )

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request):
        data = TokenInputSerializer.validated(request.data)
        try:
            token = services.token_issue(**data)
        except InvalidCredentials:
            for throttle in self.get_throttles():
                throttle.record_failure(request, self)
            raise
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None, **ERROR_RESPONSES})
    def delete(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

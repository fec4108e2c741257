from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, spelled `Authorization: Bearer <token>`."""

    keyword = "Bearer"

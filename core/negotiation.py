"""Content negotiation that skips parsing when the client accepts anything.

Nearly every client sends no Accept header, `*/*` or exactly the first renderer's media type
(`application/json`); DRF would still parse it and rank it against every renderer on each
request (a few per cent of a cached product page, profiled). Those cases get the first renderer
straight away, exactly what DRF answers for them; every other Accept header, and `?format=`, goes
through DRF's negotiation (406 included).
"""

from rest_framework.negotiation import DefaultContentNegotiation


class ShopContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        first = renderers[0] if renderers else None
        if (
            first is not None
            and accept in ("*/*", first.media_type)
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

"""What the OpenAPI schema describes: this API, not Wagtail's admin API (DRF too)."""

PREFIX = "/api/v1/"


def only_open_data(endpoints):
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(PREFIX)]

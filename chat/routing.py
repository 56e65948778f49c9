"""Websocket routes, all under /ws/ (config.asgi wraps them in the origin check and the session auth)."""

from django.urls import path, re_path

from chat import consumers

websocket_urlpatterns = [
    path("ws/discussions/<int:room_id>/", consumers.RoomConsumer.as_asgi()),
    path("ws/ping/", consumers.PingConsumer.as_asgi()),
    # Last: any other address (/ws/discussions/-1/, a mistyped path) is refused with 4404, not a 500.
    re_path(r"", consumers.NoRouteConsumer.as_asgi()),
]

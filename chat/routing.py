"""Websocket routes, all under /ws/ (config.asgi wraps them in the origin check and the session auth)."""

from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws/discussions/<int:room_id>/", consumers.RoomConsumer.as_asgi()),
    path("ws/ping/", consumers.PingConsumer.as_asgi()),
]

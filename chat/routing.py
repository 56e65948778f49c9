"""Websocket routes (all under /ws/). The chat issue adds the room consumer here."""

from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws/ping/", consumers.PingConsumer.as_asgi()),
]

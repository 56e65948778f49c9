"""Websocket consumers. Until rooms exist, a members-only ping proves the ASGI stack end to end."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from directory import access

# Close codes (documented for clients): 4401 not logged in / not a member.
CLOSE_NOT_MEMBER = 4401


class PingConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if not await database_sync_to_async(access.is_member)(user):
            await self.close(code=CLOSE_NOT_MEMBER)
            return
        await self.accept()

    async def receive_json(self, content, **kwargs):
        await self.send_json({"type": "pong"})

"""Watching the channel layer from each server process: when it stops carrying frames, the chat
connections of that process are closed with 4503 so that their clients reconnect and resume.

Why: channels_redis' pub/sub layer reconnects to Redis by itself, so an open connection never
notices that Redis went away. It just stops receiving, and what the room said meanwhile (messages
saved while their broadcast could not leave) would reach it only with the next message's `seq` jump,
or never if nobody writes again. Closing it makes the client resume from the database, which holds
every acknowledged message, as soon as Redis answers again; until then new connections are refused
and clients keep retrying with backoff (chat/PROTOCOL.md, tests/faults/test_redis_down.py).

One probe per process and event loop, every CHAT_LAYER_CHECK_SECONDS while the process has open
connections: a message sent to a channel of the watch's own must come back within
CHAT_LAYER_CHECK_TIMEOUT_SECONDS. A consumer whose own broadcast failed asks for a probe at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref

from channels.layers import InMemoryChannelLayer
from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a channel layer raises when its server cannot be reached (or answers too late). Refused,
# timed-out and reset connections are OSErrors (TimeoutError included); redis-py's own errors are not.
LAYER_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)


class LayerWatch:
    """Probes one channel layer from one event loop while `consumers` is not empty."""

    def __init__(self, layer, *, interval: float, timeout: float):
        self.layer = layer
        self.interval = interval
        self.timeout = timeout
        self.consumers: set = set()
        self.task: asyncio.Task | None = None
        self.wake = asyncio.Event()
        self.channel: str | None = None

    def add(self, consumer) -> None:
        self.consumers.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, consumer) -> None:
        self.consumers.discard(consumer)
        if not self.consumers and self.task is not None:
            self.task.cancel()
            self.task = None

    def suspect(self) -> None:
        """Probe now rather than at the next tick (a broadcast just failed)."""
        self.wake.set()

    async def probe(self) -> bool:
        """Whether a message sent to our own channel comes back in time."""
        token = uuid.uuid4().hex
        try:
            async with asyncio.timeout(self.timeout):
                if self.channel is None:
                    self.channel = await self.layer.new_channel("chat-watch.")
                await self.layer.send(self.channel, {"type": "chat.probe", "token": token})
                while (await self.layer.receive(self.channel)).get("token") != token:
                    pass
        except LAYER_ERRORS as error:
            # A pub/sub layer drops a channel whose receive() was cancelled: start from a new one.
            self.channel = None
            logger.warning("Couche de canaux injoignable (%s) : connexions du salon fermées (4503).",
                           error or type(error).__name__)
            return False
        return True

    async def _run(self) -> None:
        while self.consumers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            if self.consumers and not await self.probe():
                for consumer in list(self.consumers):
                    self.consumers.discard(consumer)
                    try:
                        await consumer.layer_lost()
                    except Exception:  # one connection's trouble must not spare the others
                        logger.exception("Fermeture d'une connexion du salon impossible.")
        self.task = None


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch] = weakref.WeakKeyDictionary()


def watch_for(layer) -> LayerWatch | None:
    """The watch of `layer` in the running event loop; None when there is nothing to watch: no
    layer, the in-memory layer (it lives in this process and cannot be unreachable), or checks
    switched off (CHAT_LAYER_CHECK_SECONDS = 0)."""
    interval = settings.CHAT_LAYER_CHECK_SECONDS
    # The exact class: tests watch subclasses of it that they can break.
    if layer is None or type(layer) is InMemoryChannelLayer or interval <= 0:
        return None
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None or watch.layer is not layer:
        watch = _watches[loop] = LayerWatch(layer, interval=interval,
                                            timeout=settings.CHAT_LAYER_CHECK_TIMEOUT_SECONDS)
    return watch

"""Helpers of the search tests: forum content as machina's views create it, and calls to /recherche/."""

from __future__ import annotations

import html

from django.test import Client
from machina.apps.forum_conversation.models import Post, Topic


def add_topic(forum, poster, subject: str, content: str = "Premier message.") -> Topic:
    """A topic and its opening post, approved, as machina's views create them."""
    topic = Topic.objects.create(forum=forum, subject=subject, poster=poster, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    Post.objects.create(topic=topic, poster=poster, subject=subject, content=content, approved=True)
    topic.refresh_from_db()
    return topic


def add_reply(topic: Topic, poster, content: str) -> Post:
    return Post.objects.create(topic=topic, poster=poster, subject=f"Re: {topic.subject}", content=content,
                               approved=True)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def search_json(client: Client, q: str, **params) -> dict:
    response = client.get("/recherche/", {"q": q, "format": "json", **params})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def search_page(client: Client, q: str, **params) -> str:
    """The HTML page, entities decoded (what a reader sees, markup included)."""
    response = client.get("/recherche/", {"q": q, **params})
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def suggestions(client: Client, q: str) -> list[dict]:
    response = client.get("/recherche/suggestions/", {"q": q})
    assert response.status_code == 200, response.status_code
    return response.json()["results"]


def titles(data: dict) -> set[str]:
    return {result["title"] for result in data["results"]}

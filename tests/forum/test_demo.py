"""Generated demo volume (`seed_demo --scale N`): bulk-created posts show their text like saved ones."""

import random

import pytest
from django.db.models import Q
from machina.apps.forum_conversation.models import Post

from core import markup
from demo import forum as forum_demo
from forum import services
from forum.models import ForumSpace

pytestmark = pytest.mark.django_db


@pytest.fixture
def theme_space(director, member):
    """A theme forum with readers (the fixtures' people) to write the generated posts."""
    services.ensure_forum_tree()
    return (ForumSpace.objects.filter(kind=ForumSpace.Kind.THEME)
            .select_related("forum", "theme", "region", "working_group").order_by("key").first())


def unrendered(posts):
    return posts.filter(Q(_content_rendered__isnull=True) | Q(_content_rendered=""))


def test_generated_bulk_posts_have_their_rendered_html(theme_space):
    topics, posts = forum_demo._generate_bulk([theme_space], 1, random.Random(forum_demo.SEED))

    generated = Post.objects.filter(topic__forum=theme_space.forum)
    assert topics == forum_demo.GENERATED_TOPICS_PER_FORUM_AND_SCALE and generated.count() == posts > topics
    assert not unrendered(generated).exists()
    for post in generated.order_by("pk")[:5]:
        assert post.content.rendered == markup.render(post.content.raw)
        assert post.content.rendered.startswith("<p>")


def test_seeding_again_renders_posts_an_earlier_seed_left_empty(theme_space):
    forum_demo._generate_bulk([theme_space], 1, random.Random(forum_demo.SEED))
    generated = Post.objects.filter(topic__forum=theme_space.forum)
    generated.update(_content_rendered=None)  # what bulk posts of an earlier seed look like

    assert forum_demo._render_unrendered_posts() == generated.count()

    assert not unrendered(generated).exists()
    assert forum_demo._render_unrendered_posts() == 0

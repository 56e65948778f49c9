from django import template

from forum import selectors
from forum.models import NationalMeeting

register = template.Library()


@register.inclusion_tag("forum/meetings/meeting_card.html", takes_context=True)
def meeting_card(context, topic):
    """The meeting card on a meeting's thread (nothing for ordinary topics)."""
    meeting = NationalMeeting.objects.filter(topic_id=topic.pk).first()
    if meeting is None:
        return {"meeting": None}
    request = context["request"]
    data = selectors.meeting_summary(meeting, request.user)
    data["request"] = request
    return data

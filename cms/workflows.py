"""What happens when the review workflow ends (settings.WAGTAIL_FINISH_WORKFLOW_ACTION).

Imported by wagtail.models while Wagtail loads: no model import at module level.
"""


def publish_after_review(workflow_state, user=None) -> None:
    """Publish the reviewed revision once the last task is approved.

    The approval is what authorises the publication: staff have no publish permission of their own
    (cms.setup), so that every change goes through a second staff member (cms.models.PeerReviewTask).
    Wagtail's default finish action would require the approver to hold that permission.
    """
    workflow_state.content_object.get_latest_revision().publish(user=user, skip_permission_checks=True)

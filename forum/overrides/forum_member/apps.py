from machina.apps.forum_member.apps import ForumMemberAppConfig


class MemberConfig(ForumMemberAppConfig):
    default = True
    name = "forum.overrides.forum_member"

"""`{% fragment %}`: a part of a page kept in the cache for everyone of the same audience.

    {% load fragment_tags %}
    {% fragment "forum-tree" audience stamp %}…{% endfragment %}

`audience` and `stamp` come from directory.fragments (audience(), profile_audience(),
personal_audience(), content_version(), stamp()): the key is made there and only there.
"""

from django import template

from directory import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, audience, stamp):
        self.nodelist, self.name, self.audience, self.stamp = nodelist, name, audience, stamp

    def render(self, context):
        audience = self.audience.resolve(context)
        if not audience:
            # No audience given: nothing may be shared, the fragment is rendered for this reader only.
            return self.nodelist.render(context)
        stamp = self.stamp.resolve(context) if self.stamp is not None else ""
        return fragments.cached(
            str(self.name.resolve(context)), audience=str(audience), stamp=str(stamp or ""),
            render=lambda: self.nodelist.render(context),
        )


@register.tag("fragment")
def do_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) not in (3, 4):
        raise template.TemplateSyntaxError(f"{bits[0]} attend un nom, une audience et éventuellement une empreinte.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    stamp = parser.compile_filter(bits[3]) if len(bits) == 4 else None
    return FragmentNode(nodelist, parser.compile_filter(bits[1]), parser.compile_filter(bits[2]), stamp)

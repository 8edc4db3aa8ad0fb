"""``{% fragment %}``: a cached template fragment (see ``portal.core.fragments`` for what it may hold).

    {% load portal_cache %}
    {% fragment "main-menu" request.path %}{% main_menu %}{% endfragment %}

The name, then any values the body depends on besides the content, the language and the viewer's privacy
class (those three are always part of the key).
"""

from __future__ import annotations

from django import template

from portal.core.fragments import render_fragment

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, vary):
        self.nodelist = nodelist
        self.name = name
        self.vary = vary

    def render(self, context):
        name = self.name.resolve(context)
        vary = tuple(value.resolve(context) for value in self.vary)
        return render_fragment(context, str(name), vary, self.nodelist.render)


@register.tag("fragment")
def do_fragment(parser, token):
    """``{% fragment "name" value… %}…{% endfragment %}``."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'fragment' needs a name: {% fragment \"name\" value… %}")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(bit) for bit in bits[2:]])

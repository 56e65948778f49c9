from django.views.generic import TemplateView

from directory.mixins import MemberRequiredMixin


class MyParrainageView(MemberRequiredMixin, TemplateView):
    template_name = "directory/parrainage.html"

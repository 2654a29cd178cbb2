from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import Page


class HomePage(Page):
    """The site's root: a welcome, the person's own council(s), what is happening now, the five
    steps, the search box and the top-level councils."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["councils.CouncilPage", "home.StandardPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from councils.models import CouncilPage
        from home.selectors import happening_now

        context = super().get_context(request, *args, **kwargs)
        context["top_councils"] = CouncilPage.objects.child_of(self).live().order_by("title")
        # A signed-in person lands on their own council(s); everyone sees what is on now.
        context["now"] = happening_now(request.user, choose=request.GET.get("council"))
        return context


class StandardPage(Page):
    """An editorial page: about the platform, help for residents, privacy notice."""

    body = models.TextField(_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("standard page")

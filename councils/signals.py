"""Drop the worker's cached ancestor ids (CouncilPage.ancestor_ids) whenever the page tree may
have changed: a page saved, deleted or moved."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page
from wagtail.signals import post_page_move

from councils.models import forget_ancestor_ids


@receiver(post_save)
@receiver(post_delete)
def _page_changed(sender, instance, **kwargs):
    if isinstance(instance, Page):
        forget_ancestor_ids()


@receiver(post_page_move)
def _page_moved(sender, **kwargs):
    forget_ancestor_ids()

"""The big screen (大屏) of a township's service centre, or of a district or a city: 1920x1080,
dark, no scrolling, public (figures and anonymous counts only).

- `councils/<id>/screen/`: the page. Without script it shows the figures as they are and
  reloads itself every minute; with static/js/governance-screen.js it follows the socket
  `ws/governance/screens/<id>/` (governance.consumers.ScreenConsumer) and re-reads the fragment
  below when a frame says something changed.
- `councils/<id>/screen/figures/`: the fragment the script swaps in, at most every few seconds.

At most seven queries whatever the number of villages and cases (governance.dashboards.
screen_figures): stored figures, and the case board's one count of the open cases.
"""

from django.shortcuts import render
from django.urls import path

from cases.live import board_seq
from governance import dashboards
from governance.views.dashboard import dashboard_council

NO_SCRIPT_REFRESH_SECONDS = 60


def screen(request, council_pk: int):
    council = dashboard_council(council_pk)
    # Read before the figures: a change after this number is read again by the script.
    seq = board_seq(council.pk)
    context = dashboards.screen_figures(council)
    context["seq"] = seq
    context["refresh_seconds"] = NO_SCRIPT_REFRESH_SECONDS
    return render(request, "governance/screen.html", context)


def screen_figures(request, council_pk: int):
    council = dashboard_council(council_pk)
    return render(request, "governance/screen_figures.html", dashboards.screen_figures(council))


urlpatterns = [
    path("councils/<int:council_pk>/screen/", screen, name="screen"),
    path("councils/<int:council_pk>/screen/figures/", screen_figures, name="screen_figures"),
]

"""Reporting a case and a case's own page with its steps."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path

from cases.models import Case


def case_detail(request, pk: int):
    case = get_object_or_404(Case.objects.select_related("council", "handler_council"), pk=pk)
    if not request.user.has_perm("cases.view_case", case):
        raise PermissionDenied
    return render(request, "cases/case.html", {"case": case})


urlpatterns = [
    path("<int:pk>/", case_detail, name="case"),
]

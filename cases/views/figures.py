"""Figures rolled up the tree, weekly summaries, exports."""

urlpatterns = []

"""The township board, the department desk, departments, level rules, the public page."""

urlpatterns = []

from django.urls import path

from councils import views

app_name = "councils"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("<int:pk>/join/", views.join, name="join"),
    path("<int:pk>/members/", views.members, name="members"),
    path("<int:pk>/households/", views.households, name="households"),
    path("<int:pk>/register/", views.register, name="register"),
    path(
        "register/<int:member_id>/remove/",
        views.remove_from_register,
        name="remove_from_register",
    ),
    path(
        "memberships/<int:membership_id>/verify/",
        views.decide,
        {"decision": "verify"},
        name="verify",
    ),
    path(
        "memberships/<int:membership_id>/reject/",
        views.decide,
        {"decision": "reject"},
        name="reject",
    ),
    path("<int:pk>/roles/", views.roles, name="roles"),
    path("roles/<int:membership_id>/remove/", views.remove_role, name="remove_role"),
    path("<int:pk>/actions/", views.actions, name="actions"),
    path("me/", views.profile, name="profile"),
]

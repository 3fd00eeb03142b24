from django.urls import include, path

urlpatterns = [
    path("", include("contract.urls")),
    path("", include("chat.urls")),
]

from django.urls import include, path

urlpatterns = [
    path("", include("contract.urls")),
    path("", include("chat.urls")),
]

handler400 = "chatsite.http_errors.bad_request"
handler403 = "chatsite.http_errors.permission_denied"
handler404 = "chatsite.http_errors.page_not_found"
handler500 = "chatsite.http_errors.server_error"

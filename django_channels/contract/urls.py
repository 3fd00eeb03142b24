from django.urls import path

from contract import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("json", views.json_hello, name="json"),
    path("plaintext", views.plaintext, name="plaintext"),
    path("db", views.single_query, name="db"),
    path("queries", views.multiple_queries, name="queries"),
    path("updates", views.updates, name="updates"),
    path("fortunes", views.fortunes, name="fortunes"),
    path("whoami", views.whoami, name="whoami"),
]

"""The site's URLs plus /bench/insert/: a minimal Django view doing one INSERT (the baseline)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from yishi.urls import urlpatterns as site_urls


@csrf_exempt
def minimal_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_insert (body) VALUES (%s)", [request.body[:200].decode()])
    return HttpResponse(status=204)


urlpatterns = [path("bench/insert/", minimal_insert), *site_urls]

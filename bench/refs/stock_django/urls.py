import json
import os

import redis
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from stock_django.apps import STATEMENTS
from stock_django.models import Vote

REDIS = redis.Redis.from_url(os.environ["REDIS_URL"])
with open(os.environ["BENCH_TOKENS"]) as _tokens:
    TOKENS = json.load(_tokens)
CHOICES = {"for", "against", "abstain"}


@csrf_exempt
def vote(request, item_id):
    user_id = TOKENS.get(request.headers.get("Authorization", "")[len("Bearer ") :])
    choice = json.loads(request.body).get("choice")
    if user_id is None or choice not in CHOICES:
        return JsonResponse({"code": "refused"}, status=401 if user_id is None else 422)
    now = timezone.now()
    Vote.objects.update_or_create(
        item_id=item_id,
        user_id=user_id,
        defaults={"choice": choice, "updated_at": now},
        create_defaults={"choice": choice, "created_at": now, "updated_at": now},
    )
    REDIS.incr(f"agora:bench:stock:{item_id}:{choice}")
    return JsonResponse({"item": item_id, "choice": choice})


def stats(request):
    return JsonResponse({"statements": STATEMENTS[0]})


urlpatterns = [
    path("api/v1/items/<int:item_id>/vote", vote),
    path("_stats", stats),
]

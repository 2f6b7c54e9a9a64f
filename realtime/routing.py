from django.urls import path

from realtime import consumers

websocket_urlpatterns = [
    path("ws/ping/", consumers.PingConsumer.as_asgi()),
    path("ws/me/", consumers.PersonalConsumer.as_asgi()),
    path("ws/consultations/<slug:slug>/", consumers.LiveConsumer.as_asgi()),
    path("ws/consultations/<slug:slug>/moderation/", consumers.ModerationConsumer.as_asgi()),
]

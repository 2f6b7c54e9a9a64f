import json

from channels.generic.websocket import JsonWebsocketConsumer

MAX_FRAME_BYTES = 4096


class PingConsumer(JsonWebsocketConsumer):
    """Liveness of the websocket doorway: answers ``{"type": "ping"}`` with a pong."""

    def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            self.send_json({"type": "error", "reason": "frame must be JSON text under 4 KiB"})
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            self.send_json({"type": "error", "reason": "malformed JSON"})
            return
        if not isinstance(message, dict) or message.get("type") != "ping":
            self.send_json({"type": "error", "reason": "unknown message type"})
            return
        self.send_json({"type": "pong"})

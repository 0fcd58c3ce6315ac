"""fake_telegram.py PORT TOKEN RECORD - a fake Telegram Bot API for the
tests: sendMessage and getUpdates at /bot<TOKEN>/..., the real API's answer
and error shapes (https://core.telegram.org/bots/api).  /_control takes:
  {"fail": [["429", 2], ...]}  the next sendMessage answers: "429" (retry_after
                               2), "500", "401", "echo" (a 502 naming the URL), "ok" (a normal one); then normal
  {"blocked": ["111"]}         chats whose bot was blocked (403)
  {"updates": [...]}           Update objects getUpdates serves (offset honoured)
  {"hang": 5}                  every request sleeps 5 s first
Each request is recorded with its JSON body."""
import json
import sys

from fake_common import State, serve


def route(state, method, path, headers, raw):
    token = state.s["token"]
    entry = {"content_type": headers.get("Content-Type")}
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    entry["body"] = body
    prefix = "/bot" + token + "/"
    if not path.startswith(prefix):
        entry["error"] = "bad token"
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, None, entry
    meth = path[len(prefix):]
    if method != "POST" or headers.get("Content-Type") != "application/json" or not isinstance(body, dict):
        entry["error"] = "not a JSON POST"
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: no JSON"}, None, entry
    with state.lock:
        fails = state.s.setdefault("fail", [])
        fail = fails.pop(0) if fails and meth == "sendMessage" else None
        blocked = state.s.get("blocked", [])
        updates = list(state.s.get("updates", []))
    if fail and fail[0] == "ok":
        fail = None
    if fail:
        kind = fail[0]
        if kind == "429":
            ra = fail[1] if len(fail) > 1 else 1
            return 429, {"ok": False, "error_code": 429,
                         "description": "Too Many Requests: retry after %d" % ra,
                         "parameters": {"retry_after": ra}}, None, entry  # the Bot API sends no Retry-After header
        if kind == "echo":  # a relay that names the URL in its error
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway: upstream failed for " + path}, None, entry
        if kind == "401":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, None, entry
        return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, None, entry
    if meth == "sendMessage":
        chat = str(body.get("chat_id"))
        if chat in blocked:
            return 403, {"ok": False, "error_code": 403,
                         "description": "Forbidden: bot was blocked by the user"}, None, entry
        if chat.startswith("-999"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, None, entry
        text = body.get("text", "")
        if len(text.encode("utf-16-le")) // 2 > 4096 or not text:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}, None, entry
        return 200, {"ok": True, "result": {"message_id": 1, "chat": {"id": body.get("chat_id")}, "text": text}}, None, entry
    if meth == "getUpdates":
        off = body.get("offset", 0)
        lim = body.get("limit", 100)
        res = [u for u in updates if u["update_id"] >= off][:lim]
        return 200, {"ok": True, "result": res}, None, entry
    return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, None, entry


if __name__ == "__main__":
    port, token, record = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    serve(port, State(record, token=token), route)

"""fake_zalo.py PORT APP_ID SECRET REFRESH RECORD [N] - a fake Zalo OA API and
OAuth server for the tests on one port: POST /v3.0/oa/message/cs (header
access_token) and POST /v4/oa/access_token (header secret_key, form
refresh_token, app_id, grant_type=refresh_token).  A refresh token works
once; each refresh issues access token "AT<n>" and refresh token "RT<n>"
(n counts from N, 0 by default; a restarted fake knows no access token).
/_control takes:
  {"expire": true}           the current access token stops working (-216)
  {"refuse_refresh": true}   every refresh is refused
  {"fail": [["429"], ["500"], ["-32"]]}  the next message answers
  {"not_following": ["u2"]}  users that do not follow the OA (-213)
  {"hang": 5}"""
import json
import sys
import urllib.parse

from fake_common import State, serve


def refresh(state, headers, raw, entry):
    form = urllib.parse.parse_qs(raw.decode(), strict_parsing=False)
    entry["form"] = {k: v[0] for k, v in form.items()}
    entry["secret_ok"] = headers.get("secret_key") == state.s["secret"]
    entry["content_type"] = headers.get("Content-Type")
    s = state.s
    if (not entry["secret_ok"] or entry["form"].get("app_id") != s["app_id"]
            or entry["form"].get("grant_type") != "refresh_token" or s.get("refuse_refresh")
            or entry["form"].get("refresh_token") != s["refresh"]):
        return 200, {"error": -14014, "error_name": "Invalid refresh token",
                     "error_reason": "refresh token is invalid or used", "error_description": ""}, None, entry
    s["n"] = s.get("n", 0) + 1
    s["access"], s["refresh"] = "AT%d" % s["n"], "RT%d" % s["n"]
    return 200, {"access_token": s["access"], "refresh_token": s["refresh"], "expires_in": "90000"}, None, entry


def message(state, headers, raw, entry):
    s = state.s
    entry["access_token"] = headers.get("access_token")
    entry["content_type"] = headers.get("Content-Type")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    entry["body"] = body
    if headers.get("access_token") != s.get("access") or s.get("expire"):
        s["expire"] = False
        s["access"] = "expired-" + str(s.get("access"))
        return 200, {"error": -216, "message": "Access token is invalid"}, None, entry
    fails = s.setdefault("fail", [])
    if fails:
        f = fails.pop(0)[0]
        if f == "429":
            return 429, {"error": -32, "message": "Exceed rate limit"}, {"Retry-After": "1"}, entry
        if f == "500":
            return 500, {"error": -1, "message": "internal"}, None, entry
        return 200, {"error": int(f), "message": "Exceed rate limit"}, None, entry
    if not isinstance(body, dict) or "user_id" not in body.get("recipient", {}) or "text" not in body.get("message", {}):
        return 200, {"error": -201, "message": "Parameters invalid"}, None, entry
    if body["recipient"]["user_id"] in s.get("not_following", []):
        return 200, {"error": -213, "message": "User has not followed OA"}, None, entry
    return 200, {"error": 0, "message": "Success", "data": {"message_id": "m1",
                 "user_id": body["recipient"]["user_id"]}}, None, entry


def route(state, method, path, headers, raw):
    entry = {}
    with state.lock:
        if method == "POST" and path == "/v4/oa/access_token":
            return refresh(state, headers, raw, entry)
        if method == "POST" and path == "/v3.0/oa/message/cs":
            code, obj, hdrs, entry = message(state, headers, raw, entry)
            entry["api_error"] = obj.get("error")
            return code, obj, hdrs, entry
    return 404, {"error": -404, "message": "not found"}, None, entry


if __name__ == "__main__":
    port, app_id, secret, rt, record = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 0  # tokens issued before (a restarted fake)
    serve(port, State(record, app_id=app_id, secret=secret, refresh=rt, access=None, n=n), route)

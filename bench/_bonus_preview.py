"""The what-if preview through the web stack for bench/bonus.py: `measure(args)` returns a dict.

A 500-person team's computed pool (bench/_bonus_world.py); its lead moves the what-if's
weight sliders: POST /bonus/pools/<id>/preview as htmx sends it (HX-Request, the CSRF
token in the header, the four weights, floor and cap), in-process through the whole
Flask stack (routing, session, scope, the preview service — the engine on the saved raw
values, nothing written — and the result fragment), a different weight each time.
"what_if_web": p50/p95 over 50 requests after a few warm-ups (target p95 < 100 ms).
"""
import random
import re
import sys
import time

import _bonus_world
from people import logged_in_client, summarise

PEOPLE = 500
REQUESTS = 50
WARM_UP = 5
TARGET_P95_MS = 100.0
TOKEN_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def log(message):
    print(f"[bench/bonus preview] {message}", file=sys.stderr, flush=True)


def measure(args):
    app, _workdir = _bonus_world.app()
    _team_id, pool_id, lead = _bonus_world.team(PEOPLE)
    client = logged_in_client(app, lead)
    page = client.get(f"/bonus/pools/{pool_id}")
    if page.status_code != 200:
        raise RuntimeError(f"the pool page answered {page.status_code}")
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    rng = random.Random(args.seed)
    latencies, size = [], 0
    for n in range(REQUESTS + WARM_UP):
        form = {"weight-support": str(rng.randint(0, 100)), "weight-tenure": str(rng.randint(0, 100)),
                "weight-skill": "15", "weight-attendance": "15", "floor": "100", "cap": ""}
        began = time.perf_counter()
        response = client.post(f"/bonus/pools/{pool_id}/preview", data=form, headers=headers)
        body = response.get_data()
        elapsed = time.perf_counter() - began
        if response.status_code != 200 or b"whatif" not in body:
            raise RuntimeError(f"the preview answered {response.status_code}")
        if n >= WARM_UP:
            latencies.append(elapsed)
            size = len(body)
    result = {"people": PEOPLE, **summarise(latencies), "bytes": size, "target_p95_ms": TARGET_P95_MS}
    result["meets_target"] = result["p95_ms"] < TARGET_P95_MS
    log(str(result))
    return {"what_if_web": result}

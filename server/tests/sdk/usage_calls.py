"""Makes API calls with the official OpenAI Python SDK for the usage tests.

Run by server/tests/api/usage.rs with RESAYIL_BASE_URL and KEY. Prints one JSON object:
{"ok": [request ids of answered calls], "refused": [request ids of refused calls]}.
"""
import json
import os

import openai
from openai import OpenAI

client = OpenAI(base_url=os.environ["RESAYIL_BASE_URL"], api_key=os.environ["KEY"],
                max_retries=0, timeout=30)
ok, refused = [], []

for n in range(2):
    raw = client.chat.completions.with_raw_response.create(
        model="llama3.2:3b",
        messages=[{"role": "user", "content": f"Say hello {n}"}],
        max_tokens=20,
    )
    r = raw.parse()
    assert r.usage.total_tokens > 0
    ok.append(raw.headers["x-request-id"])

raw = client.chat.completions.with_raw_response.create(
    model="llama3.2:3b",
    messages=[{"role": "user", "content": "Count to five"}],
    max_tokens=20,
    stream=True,
    stream_options={"include_usage": True},
)
chunks = list(raw.parse())
assert any(c.usage for c in chunks), "no usage chunk"
ok.append(raw.headers["x-request-id"])

try:
    client.chat.completions.create(
        model="no-such-model",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=5,
    )
    raise AssertionError("an unknown model was answered")
except openai.NotFoundError as e:
    refused.append(e.response.headers["x-request-id"])

print(json.dumps({"ok": ok, "refused": refused}))

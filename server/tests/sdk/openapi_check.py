"""Real answers of a running portal checked against its own /openapi.json, and the code
examples of its pages run against it.

Run by server/tests/api/public.rs with the portal and a fake Ollama running:
  RESAYIL_ADDR     http://127.0.0.1:PORT (the portal)
  PUBLIC_BASE_URL  the base URL the pages show (replaced by RESAYIL_ADDR to run examples)
  KEY_ENTERPRISE   an Enterprise account with credits
  KEY_BASIC        a Basic account
  KEY_BROKE        an account with 0 credits
  EXAMPLES_DIR     a folder with the page's examples: curl.sh, python.py
Needs `jsonschema` (scripts/test.sh installs it into the virtualenv).
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ADDR = os.environ["RESAYIL_ADDR"]
PUBLIC = os.environ["PUBLIC_BASE_URL"]


def fetch(method, path, key=None, body=None):
    req = urllib.request.Request(ADDR + path, method=method)
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data, timeout=30) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


status, _, raw = fetch("GET", "/openapi.json")
assert status == 200, status
SPEC = json.loads(raw)
assert SPEC["openapi"] == "3.1.0", SPEC["openapi"]
assert SPEC["servers"][0]["url"] == PUBLIC, SPEC["servers"]
# The document is a valid OpenAPI 3.1 document as far as its schemas go: each compiles.
REGISTRY = Registry().with_resource(
    "urn:spec", Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
for name, schema in SPEC["components"]["schemas"].items():
    jsonschema.Draft202012Validator.check_schema(schema)


def validator(schema):
    """A validator of a schema of the document (its `#/components/…` references resolved
    in the document)."""
    text = json.dumps(schema).replace('"#/components/', '"urn:spec#/components/')
    return jsonschema.Draft202012Validator(json.loads(text), registry=REGISTRY)


def response_spec(path, method, status, content_type="application/json"):
    op = SPEC["paths"][path][method.lower()]
    res = op["responses"].get(str(status))
    assert res is not None, f"{method} {path}: status {status} is not documented"
    content = res["content"].get(content_type)
    assert content is not None, f"{method} {path} {status}: {content_type} not documented"
    return res, content["schema"]


checked = 0


def check(path, method, want, key=None, body=None, url=None):
    global checked
    status, headers, raw = fetch(method, url or path, key, body)
    headers = {k.lower(): v for k, v in headers.items()}
    assert status == want, f"{method} {url or path}: {status} (wanted {want}) {raw[:300]!r}"
    ctype = headers.get("content-type", "").split(";")[0]
    res, schema = response_spec(path, method, status, ctype)
    for name in res.get("headers", {}):
        assert name in headers, f"{method} {path} {status}: header {name} missing"
    if ctype == "text/event-stream":
        chunk = validator({"$ref": "#/components/schemas/ChatCompletionChunk"})
        lines = [l[6:] for l in raw.decode().splitlines() if l.startswith("data: ")]
        assert lines[-1] == "[DONE]", lines[-1]
        for line in lines[:-1]:
            chunk.validate(json.loads(line))
    else:
        validator(schema).validate(json.loads(raw))
    checked += 1
    print(f"ok   {method} {url or path} {status}")
    return json.loads(raw) if ctype == "application/json" else raw


E, B, BROKE = os.environ["KEY_ENTERPRISE"], os.environ["KEY_BASIC"], os.environ["KEY_BROKE"]
chat = "/v1/chat/completions"
msgs = [{"role": "user", "content": "مرحبا"}]
models = check("/v1/models", "GET", 200, E)
ids = [m["id"] for m in models["data"]]
for denied in ["glm-4.7-flash", "bge-m3", "nomic-embed-text"]:
    assert denied not in ids and denied not in json.dumps(SPEC), denied
check("/v1/models/{id}", "GET", 200, E, url="/v1/models/llama3.2:3b")
check("/v1/models/{id}", "GET", 404, E, url="/v1/models/no-such-model")
check("/v1/models/{id}", "GET", 404, E, url="/v1/models/bge-m3")
check("/v1/models/{id}", "GET", 403, B, url="/v1/models/gpt-oss:20b")
check("/v1/models", "GET", 401, "rsl_wrong")
check(chat, "POST", 200, E, {"model": "llama3.2:3b", "messages": msgs, "max_tokens": 16})
check(chat, "POST", 200, E, {"model": "llama3.2:3b", "messages": msgs, "stream": True,
                             "stream_options": {"include_usage": True}, "max_tokens": 16})
check(chat, "POST", 400, E, {"model": "llama3.2:3b"})
check(chat, "POST", 400, E, {"model": "llama3.2:3b", "messages": msgs, "max_tokens": 10**9})
check(chat, "POST", 402, BROKE, {"model": "llama3.2:3b", "messages": msgs})
check(chat, "POST", 403, B, {"model": "gpt-oss:20b", "messages": msgs})
check(chat, "POST", 404, E, {"model": "bge-m3", "messages": msgs})
check(chat, "POST", 401, None, {"model": "llama3.2:3b", "messages": msgs})
check("/v1/embeddings", "POST", 200, E, {"model": "all-minilm", "input": ["a", "b"]})
check("/v1/embeddings", "POST", 400, E, {"model": "all-minilm", "input": ""})

# The examples of the page, as a visitor copies them, against this server.
env = dict(os.environ, RESAYIL_API_KEY=E)
folder = os.environ["EXAMPLES_DIR"]
for name, cmd in [("curl.sh", ["sh"]), ("python.py", [sys.executable])]:
    code = open(os.path.join(folder, name), encoding="utf-8").read()
    assert PUBLIC + "/v1" in code, f"{name} does not use PUBLIC_BASE_URL"
    path = os.path.join(folder, "run-" + name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(code.replace(PUBLIC, ADDR))
    out = subprocess.run(cmd + [path], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"{name}: {out.stdout} {out.stderr}"
    assert out.stdout.strip(), f"{name} printed nothing"
    if name == "curl.sh":
        assert json.loads(out.stdout)["object"] == "chat.completion", out.stdout
    print(f"ok   example {name}")

print(f"all {checked} answers match the spec")

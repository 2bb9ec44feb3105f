"""The official OpenAI Python SDK against a running portal.

Run by server/tests/api/sdk.rs, which starts the portal with a fake Ollama, creates the
accounts with `resayil user create` and passes their keys in the environment:
  RESAYIL_BASE_URL   http://127.0.0.1:PORT/v1
  KEY_ENTERPRISE     an Enterprise account with 10 credits
  KEY_BASIC          a Basic account (10 requests per minute)
  KEY_BROKE          an account with 0 credits
Exits non-zero (with the failing check) if the SDK sees anything unexpected.
"""
import os
import sys

import openai
from openai import OpenAI

BASE = os.environ["RESAYIL_BASE_URL"]


def client(key, retries=0):
    return OpenAI(base_url=BASE, api_key=key, max_retries=retries, timeout=30)


def check(name, fn):
    try:
        fn()
    except AssertionError as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"ok   {name}")


def expect_error(exc_type, status, fn, code=None):
    try:
        fn()
    except exc_type as e:
        assert e.status_code == status, f"status {e.status_code}, wanted {status}: {e}"
        if code is not None:
            assert e.code == code, f"code {e.code!r}, wanted {code!r}"
        return e
    raise AssertionError(f"no {exc_type.__name__}")


ent = client(os.environ["KEY_ENTERPRISE"])


def non_stream():
    r = ent.chat.completions.create(
        model="llama3.2:3b",
        messages=[{"role": "user", "content": "Say hello"}],
        max_tokens=20,
    )
    assert r.object == "chat.completion", r.object
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content, "empty content"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.completion_tokens > 0


def stream():
    chunks = list(
        ent.chat.completions.create(
            model="llama3.2:3b",
            messages=[{"role": "user", "content": "Count to five"}],
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text, "no streamed text"
    usage = [c.usage for c in chunks if c.usage]
    assert usage and usage[-1].total_tokens > 0, "no usage chunk"


def models():
    ids = [m.id for m in ent.models.list()]
    assert "llama3.2:3b" in ids, ids
    for hidden in ("glm-4.7-flash", "bge-m3", "nomic-embed-text"):
        assert hidden not in ids, f"{hidden} listed"
    one = ent.models.retrieve("llama3.2:3b")
    assert one.id == "llama3.2:3b"


def embeddings():
    r = ent.embeddings.create(model="all-minilm", input=["hello", "world"])
    assert len(r.data) == 2 and len(r.data[0].embedding) > 0


def wrong_key():
    expect_error(
        openai.AuthenticationError,
        401,
        lambda: client("rsl_not-a-real-key").models.list(),
        code="invalid_api_key",
    )


def no_credits():
    e = expect_error(
        openai.APIStatusError,
        402,
        lambda: client(os.environ["KEY_BROKE"]).chat.completions.create(
            model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}]
        ),
    )
    assert "top_up_url" in str(e.body), e.body
    assert e.response.headers.get("x-should-retry") == "false"


basic = client(os.environ["KEY_BASIC"])


def plan_denies_model():
    e = expect_error(
        openai.PermissionDeniedError,
        403,
        lambda: basic.chat.completions.create(
            model="deepseek-v3.2:cloud", messages=[{"role": "user", "content": "hi"}]
        ),
    )
    assert "Pro" in e.message, e.message


def unknown_and_denied_models():
    for model in ("no-such-model", "glm-4.7-flash"):
        expect_error(
            openai.NotFoundError,
            404,
            lambda: ent.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}]),
            code="model_not_found",
        )


def rate_limit():
    # Basic allows 10 requests a minute; the calls above used some of them. Even if a new
    # minute starts during the loop, 25 requests cross the limit.
    seen = None
    for _ in range(25):
        try:
            basic.models.list()
        except openai.RateLimitError as e:
            seen = e
            break
    assert seen is not None, "no 429 after 25 requests"
    assert seen.status_code == 429
    assert seen.response.headers.get("retry-after"), "no retry-after"


for name, fn in [
    ("non-stream completion with usage", non_stream),
    ("stream with include_usage", stream),
    ("models list hides restricted models", models),
    ("embeddings", embeddings),
    ("401 AuthenticationError", wrong_key),
    ("402 with top_up_url", no_credits),
    ("403 PermissionDeniedError names the plan", plan_denies_model),
    ("404 NotFoundError for unknown and denied models", unknown_and_denied_models),
    ("429 RateLimitError with retry-after", rate_limit),
]:
    check(name, fn)
print("all SDK checks passed")

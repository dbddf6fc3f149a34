"""The Responses API over HTTP with the official `openai` Python client, against the local
runtime (or a deployment with the RESPONSES KV binding: see conftest)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest
from pydantic import BaseModel

from tests.http.conftest import DEFAULT_API_KEYS

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
# What OpenAI sends, in its order: an SDK parses any order, other clients may not.
RESPONSE_FIELDS = [
    "id",
    "object",
    "created_at",
    "status",
    "background",
    "error",
    "incomplete_details",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "model",
    "output",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt_cache_key",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "usage",
    "user",
    "metadata",
]


def post(base_url: str, api_key: str, path: str, body: dict) -> tuple[int, dict, bytes]:
    """Status, headers (lower-case) and body of a JSON POST."""
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_create_text(client):
    response = client.responses.create(
        model="gpt-4o-mini", instructions="Be brief.", input="Say hello to the test suite"
    )
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert response.instructions == "Be brief."
    assert "hello" in response.output_text.lower()
    [message] = response.output
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "output_text"
    usage = response.usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_response_object_fields_in_openai_order(base_url, api_key):
    status, headers, raw = post(
        base_url,
        api_key,
        "/v1/responses",
        {"model": "gpt-4o-mini", "input": "hi", "metadata": {"run": "1"}, "user": "u1"},
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    body = json.loads(raw)
    assert list(body) == RESPONSE_FIELDS
    assert body["metadata"] == {"run": "1"} and body["user"] == "u1"
    assert body["store"] is True and body["error"] is None
    assert list(body["output"][0]) == ["id", "type", "status", "content", "role"]


def test_without_v1_prefix(base_url, api_key):
    status, _, raw = post(base_url, api_key, "/responses", {"model": "gpt-4o-mini", "input": "hi"})
    assert status == 200
    assert json.loads(raw)["object"] == "response"


def test_stream_events_in_order(client):
    with client.responses.stream(model="gpt-4o-mini", input="Say hello to the stream") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[2:4] == ["response.output_item.added", "response.content_part.added"]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 3
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(d.delta for d in deltas)
    assert "hello" in text.lower()
    assert final.output_text == text
    assert final.status == "completed"
    assert final.usage.output_tokens > 0
    assert {d.item_id for d in deltas} == {final.output[0].id}


def test_stream_frames_name_their_event(base_url, api_key):
    status, headers, raw = post(
        base_url, api_key, "/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "stream": True}
    )
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    frames = [f for f in raw.decode().split("\n\n") if f]
    for frame in frames:
        event, data = frame.split("\n")
        assert event.startswith("event: ") and data.startswith("data: ")
        assert json.loads(data[6:])["type"] == event[7:]
    assert frames[-1].startswith("event: response.completed\n")


class Weather(BaseModel):
    city: str
    temperature_c: float


def test_parse_with_a_pydantic_model(client):
    response = client.responses.parse(
        model="gpt-4o-mini", input="The weather in Paris, please.", text_format=Weather
    )
    assert isinstance(response.output_parsed, Weather)
    assert response.text.format.type == "json_schema"


def test_json_object_format(client):
    response = client.responses.create(
        model="gpt-4o-mini", input="Answer in JSON", text={"format": {"type": "json_object"}}
    )
    assert isinstance(json.loads(response.output_text), dict)


def test_tool_round_trip_with_function_call_output(client):
    first = client.responses.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        input="Use get_weather for Paris",
        tools=[WEATHER],
        store=False,
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather"
    assert call.call_id and call.id.startswith("fc_")
    assert json.loads(call.arguments)["city"]
    assert first.tools[0].name == "get_weather" and first.tools[0].strict is True
    second = client.responses.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        input=[
            {"role": "user", "content": "Use get_weather for Paris"},
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'},
        ],
        tools=[WEATHER],
        store=False,
    )
    assert second.output_text.startswith("The tool returned:")
    assert '{"temp": 21}' in second.output_text


def test_streamed_tool_call(client):
    with client.responses.stream(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        input="Use get_weather for Paris",
        tools=[WEATHER],
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.done" in kinds
    [call] = [item for item in final.output if item.type == "function_call"]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert done.arguments == call.arguments == deltas
    assert json.loads(call.arguments)["city"]


def test_previous_response_id_continues_with_a_tool_result(client):
    first = client.responses.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        input="Use get_weather for Paris",
        tools=[WEATHER],
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    second = client.responses.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER],
    )
    assert second.previous_response_id == first.id
    assert second.output_text == "The tool returned: sunny"


def test_stored_response_retrieve_input_items_delete(client, base_url):
    created = client.responses.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "remember me"}]}],
    )
    assert client.responses.retrieve(created.id).output_text == created.output_text
    items = client.responses.input_items.list(created.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == "remember me"
    other = openai.OpenAI(
        base_url=base_url + "/v1", api_key=DEFAULT_API_KEYS.split(",")[1], max_retries=0
    )
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(created.id)
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.retrieve(created.id)
    assert missing.value.body == {
        "message": f"Response with id '{created.id}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_stored_stream_can_be_continued(client):
    with client.responses.stream(model="gpt-4o-mini", input="My name is Ada") as stream:
        first = stream.get_final_response()
    second = client.responses.create(
        model="gpt-4o-mini", previous_response_id=first.id, input="What did I just say?"
    )
    assert client.responses.retrieve(first.id).output_text == first.output_text
    assert "What did I just say?" in second.output_text


def test_built_in_tools_are_refused_by_name(base_url, api_key):
    status, _, raw = post(
        base_url,
        api_key,
        "/v1/responses",
        {"model": "gpt-4o-mini", "input": "news?", "tools": [{"type": "web_search"}]},
    )
    assert status == 400
    assert json.loads(raw) == {
        "error": {
            "message": "The 'web_search' tool is not supported: Workers AI runs no built-in "
            "tools. Define a function tool and run it yourself.",
            "type": "invalid_request_error",
            "param": "tools[0].type",
            "code": "unsupported_value",
        }
    }


def test_max_output_tokens_makes_an_incomplete_response(client):
    response = client.responses.create(model="gpt-4o-mini", input="Say a lot", max_output_tokens=3)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"


def test_gpt_oss_keeps_its_reasoning(client):
    response = client.responses.create(
        model="@cf/openai/gpt-oss-20b", input="Say hello", reasoning={"effort": "low"}
    )
    kinds = [item.type for item in response.output]
    assert kinds == ["reasoning", "message"]
    assert response.output[0].content[0].text
    assert response.usage.output_tokens_details.reasoning_tokens > 0
    assert "hello" in response.output_text.lower()


def test_gpt_oss_stream_has_reasoning_events(client):
    with client.responses.stream(model="@cf/openai/gpt-oss-20b", input="Say hello") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.reasoning_text.delta" in kinds
    assert kinds.index("response.reasoning_text.done") < kinds.index("response.output_text.delta")
    assert [item.type for item in final.output] == ["reasoning", "message"]


@pytest.fixture(scope="module")
def keyless_storage(request, start_worker):
    """A runtime without the RESPONSES binding."""
    return start_worker({"API_KEYS": DEFAULT_API_KEYS}).base_url


def test_without_storage_state_answers_how_to_enable_it(keyless_storage, api_key):
    client = openai.OpenAI(base_url=keyless_storage + "/v1", api_key=api_key, max_retries=0)
    response = client.responses.create(model="gpt-4o-mini", input="hi")
    assert response.store is False
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="gpt-4o-mini", previous_response_id=response.id, input="x")
    assert refused.value.body["param"] == "previous_response_id"
    assert refused.value.body["code"] == "storage_not_configured"
    assert 'binding = "RESPONSES"' in refused.value.body["message"]
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.retrieve(response.id)
    assert missing.value.body["code"] == "storage_not_configured"

"""A tool to offer in requests, and the call the fakes' `tool_calls` knob answers it with."""

from __future__ import annotations

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
WEATHER_CALL = {"name": "get_weather", "arguments": {"city": "Paris"}}

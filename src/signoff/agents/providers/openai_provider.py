"""Drafts through any OpenAI-compatible chat-completions endpoint, with the official SDK.

OpenAI itself, Azure OpenAI (its ``/openai/v1/`` endpoint), vLLM, Ollama, llama.cpp server
and LiteLLM all speak this protocol; only ``base_url``, ``api_key`` and ``model`` change. See
docs/providers.md for each.

Structured output: ``response_format`` asks for a reply matching the channel's JSON Schema
(``"json_schema"``, the default). Servers that do not support schemas can use
``"json_object"`` (JSON mode) or ``"none"``; the schema is in the system prompt either way,
and the reply is validated here whatever the server promised.
"""

from __future__ import annotations

from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion

from signoff.agents.providers.port import Prompt
from signoff.agents.providers.prompting import Redactor
from signoff.agents.providers.schema import strict_schema
from signoff.agents.providers.structured import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_TOKENS,
    DEFAULT_OUTPUT_RETRIES,
    DEFAULT_TEMPERATURE,
    DEFAULT_TIMEOUT,
    Reply,
    StructuredProvider,
    parse_json,
)

ResponseFormat = Literal["json_schema", "json_object", "none"]
TokenParam = Literal["max_tokens", "max_completion_tokens"]


class OpenAIProvider(StructuredProvider):
    """The ``openai`` provider. Every option can come from ``SIGNOFF_PROVIDERS[...]["OPTIONS"]``.

    ``base_url`` and ``api_key`` default to the SDK's own ``OPENAI_BASE_URL`` and
    ``OPENAI_API_KEY``; ``model`` to ``SIGNOFF_MODEL``.
    """

    name = "openai"
    transport_errors = (openai.OpenAIError,)

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        output_retries: int = DEFAULT_OUTPUT_RETRIES,
        temperature: float | None = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        token_param: TokenParam = "max_tokens",
        response_format: ResponseFormat = "json_schema",
        strict: bool = False,
        seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
        default_headers: dict[str, str] | None = None,
        prices: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout=timeout,
            max_retries=max_retries,
            output_retries=output_retries,
            prices=prices,
        )
        if response_format not in ("json_schema", "json_object", "none"):
            raise ValueError("response_format must be json_schema, json_object or none")
        # ``max_tokens`` is what local servers know; OpenAI's reasoning models only accept
        # ``max_completion_tokens``.
        self.token_param = token_param
        self.response_format = response_format
        self.strict = strict
        self.seed = seed
        self.extra_body = extra_body
        # The SDK retries 408/409/429/5xx and timeouts itself, honouring Retry-After.
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=default_headers,
        )
        self.base_url = str(self.client.base_url)

    def _parameters(self, prompt: Prompt) -> dict[str, Any]:
        return {
            **super()._parameters(prompt),
            "base_url": self.base_url,
            "response_format": self.response_format,
            "strict": self.strict,
            "seed": self.seed,
        }

    def _format(self, prompt: Prompt) -> dict[str, Any] | None:
        if self.response_format == "json_object":
            return {"type": "json_object"}
        if self.response_format == "none":
            return None
        schema = strict_schema(prompt.schema) if self.strict else prompt.schema
        return {
            "type": "json_schema",
            "json_schema": {"name": prompt.schema_name, "schema": schema, "strict": self.strict},
        }

    def _start(self, prompt: Prompt) -> list[dict[str, Any]]:
        return prompt.chat_messages()

    def _send(self, prompt: Prompt, messages: list[dict[str, Any]]) -> Reply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            self.token_param: self.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.seed is not None:
            body["seed"] = self.seed
        body.update(self.extra_body or {})
        response_format = self._format(prompt)
        if response_format is not None:
            body["response_format"] = response_format
        # The SDK's documented way to send a body as it is (``client.post``), with the same
        # retries, Retry-After, timeouts, Azure deployment routing and typed reply as
        # ``chat.completions.create``. ``create`` would first walk every message and the JSON
        # schema through its typed-parameter transform: about 1.5 ms a call under the GIL,
        # which with many drafts in flight holds up every other draft's reply. The body is
        # plain JSON already, so the transform would return it unchanged.
        response = self.client.post("/chat/completions", body=body, cast_to=ChatCompletion)
        usage = response.usage
        reply = Reply(
            input_tokens=(usage.prompt_tokens or 0) if usage else 0,
            output_tokens=(usage.completion_tokens or 0) if usage else 0,
            served_model=response.model or None,
            raw=response,
        )
        if not response.choices:
            reply.problem = "the reply had no choices; reply with the JSON object"
            return reply
        choice = response.choices[0]
        message = choice.message
        reply.text = message.content or ""
        refusal = getattr(message, "refusal", None)
        if refusal:
            reply.problem = f"the model refused: {refusal}"
        elif choice.finish_reason == "length":
            reply.problem = (
                f"the reply was cut off at {self.max_tokens} tokens; write shorter texts"
            )
        else:
            reply.data, reply.problem = parse_json(reply.text)
        return reply

    def _correct(
        self, messages: list[dict[str, Any]], reply: Reply, correction: str, clean: Redactor
    ) -> None:
        messages.append({"role": "assistant", "content": clean(reply.text)})
        messages.append({"role": "user", "content": correction})

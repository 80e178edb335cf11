"""Drafts through Anthropic's Messages API, with the official SDK.

Structured output through a tool: the request offers one tool, ``submit_fields`` for a draft
(another agent's prompt names its own, e.g. ``submit_brief``), whose ``input_schema`` is the
reply's JSON Schema, and forces it with ``tool_choice``. The tool's
input is the reply, already parsed; it is validated here all the same. A correction goes back
as the tool's result with ``is_error: true`` and the validation errors, which is how the
Messages API expects a failed tool call to be answered.

Prefilling ``{`` was the alternative; a forced tool keeps the JSON out of free text and gives
the model the schema in the form it was trained to follow.
"""

from __future__ import annotations

from typing import Any

import anthropic

from signoff.agents.providers.port import Prompt
from signoff.agents.providers.prompting import Redactor
from signoff.agents.providers.structured import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_TOKENS,
    DEFAULT_OUTPUT_RETRIES,
    DEFAULT_TIMEOUT,
    Reply,
    StructuredProvider,
    parse_json,
)

TOOL_NAME = "submit_fields"  # a draft's tool; other agents name theirs in their Prompt


class AnthropicProvider(StructuredProvider):
    """The ``anthropic`` provider. Every option can come from ``SIGNOFF_PROVIDERS[...]["OPTIONS"]``.

    ``base_url`` and ``api_key`` default to the SDK's own ``ANTHROPIC_BASE_URL`` and
    ``ANTHROPIC_API_KEY``; ``model`` to ``SIGNOFF_MODEL``. ``temperature`` is not sent unless
    set: the Messages API decides sampling for current models.
    """

    name = "anthropic"
    transport_errors = (anthropic.AnthropicError,)

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        output_retries: int = DEFAULT_OUTPUT_RETRIES,
        temperature: float | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
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
        # The SDK retries 408/409/429/5xx (and 529 overloaded) and timeouts itself,
        # honouring Retry-After.
        self.client = anthropic.Anthropic(
            base_url=base_url,
            api_key=api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=default_headers,
        )
        self.base_url = str(self.client.base_url)

    def _parameters(self, prompt: Prompt) -> dict[str, Any]:
        return {**super()._parameters(prompt), "base_url": self.base_url, "tool": prompt.tool_name}

    def _tool(self, prompt: Prompt) -> dict[str, Any]:
        return {
            "name": prompt.tool_name,
            "description": prompt.tool_description,
            "input_schema": prompt.schema,
        }

    def _start(self, prompt: Prompt) -> list[dict[str, Any]]:
        return [{"role": "user", "content": prompt.user}]

    def _send(self, prompt: Prompt, messages: list[dict[str, Any]]) -> Reply:
        kwargs: dict[str, Any] = {}
        if self.temperature is not None:
            # Current SDKs no longer take sampling parameters; a server that still does (an
            # older deployment, a compatible gateway) gets it in the body.
            kwargs["extra_body"] = {"temperature": self.temperature}
        response = self.client.messages.create(
            model=self.model,
            max_tokens=self.max_tokens,
            system=prompt.system,
            messages=messages,
            tools=[self._tool(prompt)],
            tool_choice={"type": "tool", "name": prompt.tool_name},
            **kwargs,
        )
        usage = response.usage
        reply = Reply(
            input_tokens=(usage.input_tokens or 0) if usage else 0,
            output_tokens=(usage.output_tokens or 0) if usage else 0,
            served_model=response.model or None,
            raw=response,
        )
        blocks = list(response.content or [])
        call = next(
            (
                b
                for b in blocks
                if b.type == "tool_use" and getattr(b, "name", "") == prompt.tool_name
            ),
            None,
        )
        reply.text = "".join(getattr(b, "text", "") for b in blocks if b.type == "text")
        if response.stop_reason == "max_tokens":
            reply.problem = (
                f"the reply was cut off at {self.max_tokens} tokens; write shorter texts"
            )
        elif call is not None:
            reply.data = call.input
        elif reply.text:
            # A compatible server that ignores tools may still answer with the JSON as text.
            reply.data, reply.problem = parse_json(reply.text)
        else:
            tool = prompt.tool_name
            reply.problem = f"no {tool} call in the reply; call {tool} with the JSON object"
        return reply

    def _correct(
        self, messages: list[dict[str, Any]], reply: Reply, correction: str, clean: Redactor
    ) -> None:
        blocks = list(reply.raw.content or []) if reply.raw is not None else []
        call = next((b for b in blocks if b.type == "tool_use"), None)
        if call is None:
            messages.append({"role": "assistant", "content": clean(reply.text) or "(no reply)"})
            messages.append({"role": "user", "content": correction})
            return
        # Only the tool call is echoed, rebuilt from its parts: the API wants exactly the
        # fields it defines, and the input is redacted like everything else that leaves.
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": clean.deep(call.input),
                    }
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "is_error": True,
                        "content": correction,
                    }
                ],
            }
        )

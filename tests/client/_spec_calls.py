"""Calls of the generated clients built from an OpenAPI description alone.

``spec_calls(spec)`` gives, for every operation of ``paths``, the resource and method names the
generator derives (tag and ``x-kiket-method``), the scoped helper (``x-kiket-scope``) and small
valid arguments: path parameters by position, required query parameters and body fields by
keyword (or ``body=`` when the method takes the body whole). Values come from the schemas with
``instance_of`` (the test kit's example builder), so a new operation needs no case written here.
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiket_sdk.testing._fake_defaults import instance_of

HTTP_METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class SpecCall:
    operation_id: str
    resource: str
    method: str
    path_args: dict[str, Any]  # python name -> value, in path order
    keyword_args: dict[str, Any]  # required query parameters and body fields
    body_whole: Any  # the body, for a method that takes ``body=``
    response_model: str | None
    helper: str | None = None
    bound: str | None = None
    required_body: list[str] = field(default_factory=list)
    body_fields: list[str] = field(default_factory=list)  # every property of the body schema

    def call(self, target: Any) -> Any:
        """Call the method on ``target`` (a resource object): path by position, rest by keyword."""
        function: Callable[..., Any] = getattr(target, self.method)
        kwargs = dict(self.keyword_args)
        takes_whole = "body" in inspect.signature(function).parameters
        if takes_whole and "body" not in self.body_fields:
            kwargs = {k: v for k, v in kwargs.items() if k not in self.required_body}
            kwargs["body"] = self.body_whole
        return function(*self.path_args.values(), **kwargs)

    def call_scoped(self, scope: Any) -> Any:
        """Call the scoped helper's method: the bound parameter left out."""
        function: Callable[..., Any] = getattr(scope, self.method)
        args = [v for k, v in self.path_args.items() if k != self.bound]
        kwargs = {k: v for k, v in self.keyword_args.items() if k != self.bound}
        return function(*args, **kwargs)

    @property
    def bound_value(self) -> Any:
        return {**self.path_args, **self.keyword_args}[self.bound] if self.bound else None


def py_name(name: str) -> str:
    py = name.replace("-", "_")
    return f"{py}_" if keyword.iskeyword(py) else py


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _value(schema: dict[str, Any]) -> Any:
    value = instance_of(schema)
    return "x" if value in ("", None) else value


def spec_calls(spec: dict[str, Any]) -> list[SpecCall]:
    """One ``SpecCall`` per operation of ``spec``, in spec order."""
    calls = []
    for item in spec["paths"].values():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            params = [
                _resolve(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]
            ]
            path_args = {
                py_name(p["name"]): _value(p["schema"]) for p in params if p["in"] == "path"
            }
            keyword_args = {
                py_name(p["name"]): instance_of(p["content"]["application/json"]["schema"])
                if "content" in p
                else _value(p["schema"])
                for p in params
                if p["in"] == "query" and p.get("required")
            }
            body_whole, required_body, body_fields = None, [], []
            if "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                body_whole = instance_of(schema)
                required_body = [py_name(k) for k in body_whole]
                body_fields = list(_resolve(spec, schema).get("properties", {}))
                keyword_args |= {py_name(k): v for k, v in body_whole.items()}
            success = next(
                response for code, response in op["responses"].items() if str(code).startswith("2")
            )
            media = _resolve(spec, success).get("content", {}).get("application/json")
            model = media["schema"]["$ref"].rsplit("/", 1)[-1] if media else None
            scope = op.get("x-kiket-scope") or {}
            calls.append(
                SpecCall(
                    operation_id=op["operationId"],
                    resource=op["tags"][0],
                    method=op["x-kiket-method"],
                    path_args=path_args,
                    keyword_args=keyword_args,
                    body_whole=body_whole,
                    response_model=model,
                    helper=scope.get("helper"),
                    bound=scope.get("bound"),
                    required_body=required_body,
                    body_fields=body_fields,
                )
            )
    return calls

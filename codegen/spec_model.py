"""Read the OpenAPI description into the plain data the Jinja templates render.

Kept apart from ``generate.py`` so the mapping from spec to Python signatures can be read (and
tested) on its own. Conventions the spec follows (checked by ``tests/test_spec.py``):

- every operation has one tag (its resource) and ``x-kiket-method`` (its method name there);
- request and response bodies are ``$ref`` s to named component schemas;
- a query parameter declared with ``content: application/json`` is sent JSON-encoded;
- every webhook has ``x-kiket-event`` and ``x-kiket-versions`` and a ``$ref`` payload schema.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

HTTP_METHODS = ("get", "put", "post", "patch", "delete")
WRITE_METHODS = {"POST", "PATCH"}
MODEL_INPUT = " | builtins.dict[str, Any]"


@dataclass
class Param:
    name: str  # on the wire
    py_name: str
    annotation: str
    required: bool
    json_encoded: bool = False
    description: str = ""


@dataclass
class Operation:
    resource: str
    method_name: str
    operation_id: str
    http_method: str
    path: str
    summary: str
    description: str
    path_params: list[Param]
    query_params: list[Param]
    body_fields: list[Param] | None  # flattened request body
    body_model: str | None  # set when the body could not be flattened
    body_required: bool
    response_model: str | None
    models: set[str] = field(default_factory=set)

    @property
    def is_write(self) -> bool:
        return self.http_method in WRITE_METHODS

    @property
    def keyword_params(self) -> list[Param]:
        params = [*self.query_params, *(self.body_fields or [])]
        return sorted(params, key=lambda p: not p.required)  # required first, order kept

    @property
    def example(self) -> str:
        args = [_example_value(p) for p in self.path_params]
        args += [f"{p.py_name}={_example_value(p)}" for p in self.keyword_params if p.required]
        if self.body_model and self.body_required:
            args.append("body={...}")
        return f"client.{self.resource}.{self.method_name}({', '.join(args)})"


@dataclass
class Resource:
    attr: str
    class_name: str
    description: str
    operations: list[Operation]


@dataclass
class CatalogueEntry:
    event: str
    version: str
    model: str
    operation_id: str
    summary: str

    @property
    def version_spellings(self) -> list[str]:
        """The ``version=`` strings the typed overload accepts for this entry: each spelling
        that registration normalises to ``version`` (``kiket_sdk._delivery.request.
        normalize_version``: ``v1``, ``V1`` and ``1`` are one version); a date stays as written.
        """
        return version_spellings(self.version)


def version_spellings(version: str) -> list[str]:
    """``"v1"`` -> ``["v1", "V1", "1"]``; any other version (a date) -> ``[version]``."""
    digits = version[1:]
    if version.startswith("v") and digits.isascii() and digits.isdigit():
        return [version, "V" + digits, digits]
    return [version]


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _py_name(name: str) -> str:
    py = name.replace("-", "_")
    return f"{py}_" if keyword.iskeyword(py) else py


def _example_value(param: Param) -> str:
    kinds = param.annotation.split(" | ")
    if "int" in kinds:
        return "1"
    if "float" in kinds:
        return "1.0"
    if "bool" in kinds:
        return "True"
    if param.annotation.startswith("builtins.list"):
        return "[]"
    if "str" in kinds:
        return f'"{param.name}"'
    return "{}"


def annotation(schema: dict[str, Any], models: set[str], *, model_input: bool = False) -> str:
    """The Python type for a JSON schema (``model_input`` also accepts plain dicts for models)."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        models.add(name)
        return name + (MODEL_INPUT if model_input else "")
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            parts = [annotation(s, models, model_input=model_input) for s in schema[combinator]]
            return " | ".join(dict.fromkeys(parts))
    kind = schema.get("type")
    if isinstance(kind, list):
        parts = [annotation({**schema, "type": k}, models, model_input=model_input) for k in kind]
        return " | ".join(dict.fromkeys(parts))
    if kind == "array":
        item = annotation(schema.get("items", {}), models, model_input=model_input)
        return f"builtins.list[{item}]"
    simple = {
        "string": "str",
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "null": "None",
    }
    if kind in simple:
        return simple[kind]
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        return "builtins.dict[str, Any]"
    return "Any"


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        node: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node[part]
        item = node
    return item


def _parameter(spec: dict[str, Any], raw: dict[str, Any], models: set[str]) -> Param:
    raw = _resolve(spec, raw)
    json_encoded = "content" in raw
    schema = raw["content"]["application/json"]["schema"] if json_encoded else raw["schema"]
    return Param(
        name=raw["name"],
        py_name=_py_name(raw["name"]),
        annotation=annotation(schema, models, model_input=True),
        required=bool(raw.get("required")) or raw["in"] == "path",
        json_encoded=json_encoded,
        description=" ".join(str(raw.get("description", "")).split()),
    )


def _body(
    spec: dict[str, Any], op: dict[str, Any], taken: set[str], models: set[str]
) -> tuple[list[Param] | None, str | None, bool]:
    request = op.get("requestBody")
    if not request:
        return None, None, False
    required = bool(request.get("required"))
    schema = request["content"]["application/json"]["schema"]
    name = _ref_name(schema["$ref"])
    target = _resolve(spec, schema)
    props: dict[str, Any] = target.get("properties", {})
    needed = set(target.get("required", []))
    flattenable = props and not (taken & {_py_name(k) for k in props}) and "allOf" not in target
    if not flattenable:
        models.add(name)
        return None, name, required
    fields = [
        Param(
            name=key,
            py_name=_py_name(key),
            annotation=annotation(prop, models, model_input=True),
            required=key in needed,
            description=" ".join(str(prop.get("description", "")).split()),
        )
        for key, prop in props.items()
    ]
    return fields, None, required


def _response_model(op: dict[str, Any], models: set[str]) -> str | None:
    for status, response in sorted(op.get("responses", {}).items()):
        if not str(status).startswith("2"):
            continue
        content = response.get("content", {})
        for media, body in content.items():
            if "json" in media and "$ref" in body.get("schema", {}):
                name = _ref_name(body["schema"]["$ref"])
                models.add(name)
                return name
        return None
    return None


def _class_name(tag: str) -> str:
    return "".join(part.capitalize() for part in tag.split("_"))


def build_operations(spec: dict[str, Any]) -> list[Resource]:
    """Group every operation of ``paths`` into resources, in spec order."""
    tag_docs = {t["name"]: " ".join(t.get("description", "").split()) for t in spec.get("tags", [])}
    grouped: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            models: set[str] = set()
            params = [_parameter(spec, p, models) for p in [*shared, *op.get("parameters", [])]]
            path_params = [p for p in params if f"{{{p.name}}}" in path]
            query_params = [
                p for p in params if p not in path_params and _in(spec, op, shared, p) == "query"
            ]
            taken = {p.py_name for p in params}
            body_fields, body_model, body_required = _body(spec, op, taken, models)
            resource = op["tags"][0]
            grouped.setdefault(resource, []).append(
                Operation(
                    resource=resource,
                    method_name=op["x-kiket-method"],
                    operation_id=op["operationId"],
                    http_method=method.upper(),
                    path=path,
                    summary=" ".join(str(op.get("summary", "")).split()),
                    description=str(op.get("description", "")).strip(),
                    path_params=path_params,
                    query_params=query_params,
                    body_fields=body_fields,
                    body_model=body_model,
                    body_required=body_required,
                    response_model=_response_model(op, models),
                    models=models,
                )
            )
    return [
        Resource(
            attr=tag, class_name=_class_name(tag), description=tag_docs.get(tag, ""), operations=ops
        )
        for tag, ops in grouped.items()
    ]


def _in(spec: dict[str, Any], op: dict[str, Any], shared: list[Any], param: Param) -> str:
    for raw in [*shared, *op.get("parameters", [])]:
        raw = _resolve(spec, raw)
        if raw["name"] == param.name:
            return str(raw["in"])
    return "query"


def build_catalogue(spec: dict[str, Any]) -> list[CatalogueEntry]:
    """One entry per (event, version) from the spec's ``webhooks``, sorted by event then version."""
    entries = []
    for item in spec.get("webhooks", {}).values():
        op = item["post"]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        for version in op["x-kiket-versions"]:
            entries.append(
                CatalogueEntry(
                    event=op["x-kiket-event"],
                    version=str(version),
                    model=_ref_name(schema["$ref"]),
                    operation_id=op["operationId"],
                    summary=" ".join(str(op.get("summary", "")).split()),
                )
            )
    return sorted(entries, key=lambda e: (e.event, e.version))

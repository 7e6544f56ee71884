"""Read the OpenAPI description into the plain data the Jinja templates render.

Kept apart from ``generate.py`` so the mapping from spec to Python signatures can be read (and
tested) on its own. Conventions the spec follows (checked by ``tests/test_spec.py``):

- every operation has one tag (its resource) and ``x-kiket-method`` (its method name there);
- request and response bodies are ``$ref`` s to named component schemas;
- a query parameter declared with ``content: application/json`` is sent JSON-encoded;
- a string parameter with ``x-kiket-format: iso-8601`` also accepts a ``datetime``;
- an operation with ``x-kiket-scope: {helper: <name>, bound: <parameter>}`` also appears on the
  scoped helper ``ctx.endpoints.<name>(<parameter>)``, which sends that parameter itself
  (``bound`` may be left out: the helper then binds nothing);
- every webhook has ``x-kiket-event`` and ``x-kiket-versions`` and a ``$ref`` payload schema.

The annotations are described for spec authors in ``codegen/README.md``.
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
    default: Any = None  # the schema's default: documentation only, the server applies it

    @property
    def nullable(self) -> bool:
        """Whether the schema admits ``null`` (its annotation lists ``None``)."""
        return "None" in self.annotation.split(" | ")


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
    scope: ScopeAnnotation | None = None

    @property
    def all_params(self) -> list[Param]:
        """Path parameters, then the keyword ones (required first)."""
        return [*self.path_params, *self.keyword_params]

    def scoped_params(self) -> tuple[list[Param], list[Param]]:
        """The parameters of the scoped helper method: (positional-or-keyword, keyword-only).

        The bound parameter is left out; path parameters and required ones may be passed by
        position (``create(module_key, table, record)``), optional ones only by keyword.
        """
        bound = self.scope.bound if self.scope else None
        params = [p for p in self.all_params if p.py_name != bound]
        return [p for p in params if p.required], [p for p in params if not p.required]

    @property
    def scoped_example(self) -> str:
        """A call of the scoped helper method, e.g. ``custom_data.list("module_key", "table")``."""
        helper = self.scope.helper if self.scope else self.resource
        args = ", ".join(_example_value(p) for p in self.scoped_params()[0])
        return f"{helper}.{self.method_name}({args})"

    @property
    def is_write(self) -> bool:
        return self.http_method in WRITE_METHODS

    @property
    def nullable_body_fields(self) -> list[str]:
        """Wire names of the body fields whose schema admits ``null``."""
        return [p.name for p in self.body_fields or [] if p.nullable]

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


@dataclass(frozen=True)
class ScopeAnnotation:
    """``x-kiket-scope`` of one operation: the helper it joins and the parameter bound there."""

    helper: str
    bound: str | None


@dataclass
class Scope:
    """A scoped helper: ``ctx.endpoints.<helper>(<bound>)`` with some operations of a resource."""

    helper: str
    class_name: str
    bound: Param | None
    operations: list[Operation]


@dataclass
class Resource:
    attr: str
    class_name: str
    description: str
    operations: list[Operation]
    scopes: list[Scope] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        """Every model name the resource's operations use, sorted."""
        return sorted({name for op in self.operations for name in op.models})

    @property
    def uses_datetime(self) -> bool:
        params = (p for op in self.operations for p in op.all_params)
        return any("datetime.datetime" in p.annotation for p in params)


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
    kind = annotation(schema, models, model_input=True)
    if schema.get("x-kiket-format") == "iso-8601":
        kind += " | datetime.datetime"  # sent as datetime.isoformat() by the request codec
    return Param(
        name=raw["name"],
        py_name=_py_name(raw["name"]),
        annotation=kind,
        required=bool(raw.get("required")) or raw["in"] == "path",
        json_encoded=json_encoded,
        description=" ".join(str(raw.get("description", "")).split()),
        default=schema.get("default"),
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
                    scope=_scope_annotation(op),
                )
            )
    resources = [
        Resource(
            attr=tag, class_name=_class_name(tag), description=tag_docs.get(tag, ""), operations=ops
        )
        for tag, ops in grouped.items()
    ]
    _attach_scopes(resources)
    return resources


def _scope_annotation(op: dict[str, Any]) -> ScopeAnnotation | None:
    raw = op.get("x-kiket-scope")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("helper"), str):
        raise ValueError(f"{op['operationId']}: x-kiket-scope needs a `helper` name")
    unknown = set(raw) - {"helper", "bound"}
    if unknown:
        raise ValueError(f"{op['operationId']}: unknown x-kiket-scope keys {sorted(unknown)}")
    return ScopeAnnotation(helper=raw["helper"], bound=raw.get("bound"))


def _attach_scopes(resources: list[Resource]) -> None:
    """Group the scoped operations by helper; one helper lives in one resource, one binding."""
    owners: dict[str, str] = {}
    for resource in resources:
        by_helper: dict[str, list[Operation]] = {}
        for op in resource.operations:
            if op.scope is None:
                continue
            owner = owners.setdefault(op.scope.helper, resource.attr)
            if owner != resource.attr:
                raise ValueError(
                    f"{op.operation_id}: helper {op.scope.helper!r} already belongs to {owner!r}"
                )
            by_helper.setdefault(op.scope.helper, []).append(op)
        for helper, ops in by_helper.items():
            bindings = {op.scope.bound for op in ops if op.scope}
            if len(bindings) != 1:
                raise ValueError(f"helper {helper!r} binds different parameters: {bindings}")
            [bound_name] = bindings
            bound = None
            if bound_name is not None:
                found = [p for op in ops for p in op.all_params if p.py_name == bound_name]
                if len(found) != sum(1 for _ in ops) or not all(p.required for p in found):
                    raise ValueError(
                        f"helper {helper!r}: every operation needs a required {bound_name!r}"
                    )
                bound = found[0]
            class_name = _class_name(helper) + "Scope"
            resource.scopes.append(Scope(helper, class_name, bound, ops))


def build_scopes(resources: list[Resource]) -> list[tuple[Resource, Scope]]:
    """Every scoped helper with the resource it belongs to, in spec order."""
    return [(resource, scope) for resource in resources for scope in resource.scopes]


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

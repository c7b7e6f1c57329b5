"""Conformance checks against OpenAI's own OpenAPI description of its API.

The description (OpenAPI 3.1, about 3 MB of YAML) lives beside the repository, at
``../shared/openai-openapi/openapi.yaml`` relative to the repository root; the environment
variable ``API4GPT_OPENAPI_SPEC`` points elsewhere. When the file is absent, tests that need it
skip (:func:`require_spec`, or the :func:`openapi_spec` fixture) — unless
``API4GPT_REQUIRE_SHARED=1`` is set (``.ci/run`` sets it), which makes them fail instead.

Import it from tests as ``from openapi_conformance import ...``: ``tests/`` has no
``__init__.py``, so pytest puts ``tests/`` itself on ``sys.path``.

Schemas are JSON Schema 2020-12 and are checked with :mod:`jsonschema`, ``$ref`` resolving
against the whole document. Only these OpenAPI-isms are translated, nothing is loosened:

* ``nullable: true`` (the 3.0 spelling) also admits ``null``; so does the
  ``allOf: [{$ref: X}, {nullable: true}]`` pattern.
* ``$recursiveRef: "#"`` (2019-09, unknown to 2020-12 and so matching anything) is read as a
  reference to the component schema it sits in, which is what it meant there.
* ``discriminator``, ``x-oai*``, ``x-stainless-*``, ``example`` are annotations and ignored;
  ``format`` is an annotation too (2020-12 default), so ``format: binary`` merely marks file
  fields of a multipart body, which accept bytes, file objects or any placeholder string.

Where the spec is stricter than a server really is, validation fails: that is a finding for
the caller to judge, not something to hide here.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import re
import reprlib
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "ENV_VAR",
    "load_spec",
    "openapi_spec",
    "require_spec",
    "schema_pointer",
    "spec_available",
    "spec_path",
    "validate_request",
    "validate_response",
    "validate_schema",
    "validate_stream_chunk",
]

#: Environment variable naming another copy of the description.
ENV_VAR = "API4GPT_OPENAPI_SPEC"
#: Set to 1 (as ``.ci/run`` does) to fail, not skip, when the description is absent.
REQUIRE_ENV_VAR = "API4GPT_REQUIRE_SHARED"
_DEFAULT_PATH = Path(__file__).resolve().parents[1].parent / "shared/openai-openapi/openapi.yaml"
_DOC_URI = "https://api4gpt-async.invalid/openai-openapi.json"
#: Bump when the cached JSON would differ for the same YAML (for example, a loader change).
_CACHE_FORMAT = 1
_MAX_ERRORS = 5
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
#: Streams whose events the description does not declare as ``text/event-stream`` content.
_STREAM_SCHEMAS = {"/completions": "CreateCompletionResponse"}


# --------------------------------------------------------------------------------------------
# Locating and loading the description
# --------------------------------------------------------------------------------------------


def spec_path() -> Path:
    """Where the description is looked for: ``$API4GPT_OPENAPI_SPEC``, else beside the repo."""
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser() if override else _DEFAULT_PATH


def spec_available() -> bool:
    """Whether the description exists where :func:`spec_path` says (checked afresh each call)."""
    return spec_path().is_file()


def require_spec() -> dict[str, Any]:
    """The parsed description, or skip the calling test when the file is absent."""
    path = spec_path()
    if not path.is_file():
        if os.environ.get(REQUIRE_ENV_VAR, "") not in ("", "0"):
            pytest.fail(
                f"OpenAI's OpenAPI description not found at {path} ({REQUIRE_ENV_VAR} is set)"
            )
        pytest.skip(f"OpenAI's OpenAPI description not found at {path}; conformance checks skipped")
    return load_spec(path)


@pytest.fixture(name="openapi_spec")
def openapi_spec() -> dict[str, Any]:
    """Fixture: the parsed description; skips the test when the file is absent."""
    return require_spec()


def load_spec(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The description as parsed JSON-compatible data, cached per process and per path.

    Shared between callers: do not mutate it. A parsed copy is also kept on disk as JSON (keyed
    by the YAML's size, mtime and SHA-256), so only the first load ever parses the YAML.
    """
    return _load_spec_cached(str(Path(path) if path is not None else spec_path()))


@functools.cache
def _load_spec_cached(path: str) -> dict[str, Any]:
    raw = Path(path).read_bytes()  # FileNotFoundError names the path: good enough here
    stat = os.stat(path)
    digest = hashlib.sha256(raw).hexdigest()
    key = hashlib.sha256(
        f"{_CACHE_FORMAT}:{stat.st_size}:{stat.st_mtime_ns}:{digest}".encode()
    ).hexdigest()[:32]
    cached = _read_cache(key, digest)
    if cached is not None:
        return cached
    spec = yaml.load(raw, Loader=_SpecLoader)  # a SafeLoader subclass: safe
    if not isinstance(spec, dict) or "paths" not in spec:
        raise ValueError(f"{path} is not an OpenAPI description")
    _write_cache(key, digest, spec)
    return spec


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_BaseLoader):  # type: ignore[misc]
    """Safe YAML loading (libyaml when present) with JSON semantics: dates stay strings."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "api4gpt-async"


def _read_cache(key: str, digest: str) -> dict[str, Any] | None:
    try:
        text = (_cache_dir() / f"openapi-{key}.json").read_text(encoding="utf-8")
        envelope = json.loads(text)
    except (OSError, ValueError):
        return None
    if not isinstance(envelope, dict) or envelope.get("sha256") != digest:
        return None
    spec = envelope.get("spec")
    return spec if isinstance(spec, dict) else None


def _write_cache(key: str, digest: str, spec: dict[str, Any]) -> None:
    """Best effort: an unwritable cache directory only costs the next run a YAML parse."""
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".openapi-", suffix=".tmp", dir=folder)
    except OSError:
        return
    try:
        text = json.dumps({"sha256": digest, "spec": spec}, separators=(",", ":"))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, folder / f"openapi-{key}.json")
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# --------------------------------------------------------------------------------------------
# The schema document: the description with the OpenAPI-isms translated
# --------------------------------------------------------------------------------------------


@functools.cache
def _schema_document(path: str) -> tuple[dict[str, Any], Registry[Any]]:
    # A private copy (a JSON round trip is much faster than deepcopy), translated in place.
    doc = json.loads(json.dumps(load_spec(path)))
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        _translate(schema, f"#/components/schemas/{_escape(name)}")
    _translate(doc.get("paths", {}), None)
    for kind, objects in doc.get("components", {}).items():
        if kind != "schemas":
            _translate(objects, None)  # responses, request bodies... with inline schemas
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    return doc, registry


_ANNOTATIONS = frozenset({"description", "title", "example", "examples", "deprecated"})


def _is_null_marker(node: Any) -> bool:
    """``{nullable: true}`` with nothing else that constrains (the ``allOf`` idiom)."""
    return (
        isinstance(node, dict)
        and node.get("nullable") is True
        and all(k == "nullable" or k in _ANNOTATIONS or k.startswith("x-") for k in node)
    )


def _translate(node: Any, component: str | None) -> None:
    """Rewrite ``nullable`` and ``$recursiveRef`` (see the module docstring), in place."""
    if isinstance(node, list):
        for item in node:
            _translate(item, component)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _translate(value, component)
    if node.get("$recursiveRef") == "#" and component is not None:
        del node["$recursiveRef"]
        node["$ref"] = component
    node.pop("$recursiveAnchor", None)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and any(_is_null_marker(part) for part in all_of):
        node["allOf"] = [part for part in all_of if not _is_null_marker(part)]
        node["nullable"] = True
    nullable = node.get("nullable")
    if isinstance(nullable, bool):  # a property *named* "nullable" would be a dict
        del node["nullable"]
        if nullable:
            inner = {k: v for k, v in node.items() if k not in _ANNOTATIONS}
            for k in inner:
                del node[k]
            node["anyOf"] = [inner, {"type": "null"}]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _at(doc: Any, pointer: str) -> Any:
    node = doc
    for token in pointer.lstrip("#").split("/")[1:]:
        node = node[int(token)] if isinstance(node, list) else node[_unescape(token)]
    return node


def _deref(doc: dict[str, Any], pointer: str) -> tuple[str, Any]:
    """Follow local ``$ref``s of OpenAPI objects (responses, request bodies) to the real one."""
    node = _at(doc, pointer)
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        pointer = node["$ref"]
        node = _at(doc, pointer)
    return pointer, node


@functools.cache
def _validator(path: str, pointer: str) -> Draft202012Validator:
    _, registry = _schema_document(path)
    return Draft202012Validator({"$ref": f"{_DOC_URI}{pointer}"}, registry=registry)


# --------------------------------------------------------------------------------------------
# Finding the operation
# --------------------------------------------------------------------------------------------


def _normalise_path(path: str) -> str:
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", path, flags=re.I)  # a whole URL
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:]
    return "/" + path.strip("/")


@functools.cache
def _templates(path: str) -> list[tuple[int, str, re.Pattern[str]]]:
    doc, _ = _schema_document(path)
    found = []
    for template in doc.get("paths", {}):
        if "?" in template or "{" not in template:
            continue
        parts = re.split(r"(\{[^}]+\})", template)
        rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        found.append((template.count("{"), template, re.compile(rx)))
    found.sort()
    return found


def _operation(method: str, path: str) -> tuple[str, str, dict[str, Any]]:
    """(spec file, JSON pointer to the operation, operation) for ``method path``."""
    spec_file = str(spec_path())
    doc, _ = _schema_document(spec_file)
    want = _normalise_path(path)
    paths = doc.get("paths", {})
    template = want if want in paths else None
    if template is None:
        template = next((t for _, t, rx in _templates(spec_file) if rx.fullmatch(want)), None)
    if template is None:
        raise AssertionError(f"OpenAI's OpenAPI description has no path matching {path!r}")
    verb = method.lower()
    operation = paths[template].get(verb)
    if verb not in _HTTP_METHODS or not isinstance(operation, dict):
        declared = sorted(m.upper() for m in paths[template] if m in _HTTP_METHODS)
        raise AssertionError(
            f"OpenAI's OpenAPI description has no {method.upper()} {template} "
            f"(declared: {', '.join(declared) or 'none'})"
        )
    return spec_file, f"#/paths/{_escape(template)}/{verb}", operation


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _content_schema(doc: dict[str, Any], pointer: str, content_type: str, what: str) -> str:
    """Pointer to ``<pointer>/content/<media type>/schema``, or a readable AssertionError."""
    pointer, obj = _deref(doc, pointer)
    content = obj.get("content", {}) if isinstance(obj, dict) else {}
    want = _media_type(content_type)
    for media_type, media in content.items():
        if _media_type(media_type) == want and isinstance(media, dict) and "schema" in media:
            return f"{pointer}/content/{_escape(media_type)}/schema"
    declared = ", ".join(content) or "none"
    raise AssertionError(f"{what}: the spec declares no {want} content (declared: {declared})")


def schema_pointer(
    method: str,
    path: str,
    *,
    status: int | str | None = None,
    content_type: str = "application/json",
) -> str:
    """JSON pointer to the schema a request (``status=None``) or response body is checked with.

    A ``$ref`` at that place is followed one step, so the result usually names a component,
    for example ``#/components/schemas/CreateChatCompletionRequest``.
    """
    spec_file, op_pointer, operation = _operation(method, path)
    doc, _ = _schema_document(spec_file)
    pointer = _locate(doc, op_pointer, operation, method, path, status, content_type)
    node = _at(doc, pointer)
    if isinstance(node, dict) and set(node) == {"$ref"} and node["$ref"].startswith("#/"):
        return str(node["$ref"])
    return pointer


def _locate(
    doc: dict[str, Any],
    op_pointer: str,
    operation: dict[str, Any],
    method: str,
    path: str,
    status: int | str | None,
    content_type: str,
) -> str:
    if status is None:
        what = f"{method.upper()} {path} request body"
        if "requestBody" not in operation:
            raise AssertionError(f"{what}: the spec declares no request body")
        return _content_schema(doc, f"{op_pointer}/requestBody", content_type, what)
    responses = operation.get("responses", {})
    code = str(status)
    candidates = [code, f"{code[:1]}XX", f"{code[:1]}xx", "default"]
    key = next((c for c in candidates if c in responses), None)
    what = f"{method.upper()} {path} response {code}"
    if key is None:
        hint = ""
        if code[:1] in "45":
            hint = "; check error bodies with validate_schema('ErrorResponse', body)"
        raise AssertionError(
            f"{what}: the spec declares no such status (declared: {', '.join(responses)}){hint}"
        )
    return _content_schema(doc, f"{op_pointer}/responses/{_escape(key)}", content_type, what)


# --------------------------------------------------------------------------------------------
# Validating
# --------------------------------------------------------------------------------------------


def validate_request(
    method: str, path: str, body: Any, *, content_type: str = "application/json"
) -> None:
    """Check a request body against the operation's ``requestBody`` schema.

    ``path`` is the request path with or without ``/v1`` (and may hold concrete ids, such as
    ``/v1/files/file-abc``). For ``multipart/form-data`` pass the form fields as a mapping, a
    multidict, or ``(name, value)`` pairs: files as bytes, file objects or placeholder strings,
    repeated fields as lists (``name[]`` and ``name[key]`` field names are understood). Text
    fields are strings on the wire, so numbers and booleans are coerced as the schema expects.
    Raises AssertionError listing the schema errors, best first.
    """
    spec_file, op_pointer, operation = _operation(method, path)
    doc, _ = _schema_document(spec_file)
    what = f"{method.upper()} {_normalise_path(path)} request body ({_media_type(content_type)})"
    if body is None:
        body_spec = (
            _deref(doc, f"{op_pointer}/requestBody")[1] if "requestBody" in operation else {}
        )
        if body_spec.get("required"):
            raise AssertionError(f"{what}: the spec requires a body, none was given")
        return
    pointer = _locate(doc, op_pointer, operation, method, path, None, content_type)
    if _media_type(content_type) in ("multipart/form-data", "application/x-www-form-urlencoded"):
        body = _form_instance(doc, _at(doc, pointer), body)
    _check(spec_file, pointer, body, what)


def validate_response(
    method: str,
    path: str,
    status: int,
    body: Any,
    *,
    content_type: str = "application/json",
) -> None:
    """Check a response body against the schema for ``status`` (then ``4XX``, ``default``).

    Raises AssertionError when the spec declares no such status or content type, or listing the
    schema errors, best first. A binary body (bytes) is accepted where the schema is binary.
    """
    spec_file, op_pointer, operation = _operation(method, path)
    doc, _ = _schema_document(spec_file)
    pointer = _locate(doc, op_pointer, operation, method, path, status, content_type)
    what = (
        f"{method.upper()} {_normalise_path(path)} response {status} ({_media_type(content_type)})"
    )
    if isinstance(body, (bytes, bytearray, memoryview)) and "binary" in _types(
        doc, _at(doc, pointer)
    ):
        body = _placeholder(body)
    _check(spec_file, pointer, body, what)


def validate_stream_chunk(path: str, chunk: Any) -> None:
    """Check one parsed ``data:`` event of a streamed response.

    ``/chat/completions`` chunks are checked against ``CreateChatCompletionStreamResponse`` and
    ``/completions`` chunks against ``CreateCompletionResponse`` (the legacy stream sends that
    same object); other paths use the ``text/event-stream`` schema of their POST 200 response.
    """
    want = _normalise_path(path)
    if want in _STREAM_SCHEMAS:
        validate_schema(_STREAM_SCHEMAS[want], chunk)
        return
    pointer = schema_pointer("POST", want, status=200, content_type="text/event-stream")
    _check(str(spec_path()), pointer, chunk, f"stream event of POST {want}")


def validate_schema(name_or_pointer: str, instance: Any) -> None:
    """Check ``instance`` against a component schema (``"ErrorResponse"``) or any pointer."""
    pointer = name_or_pointer
    if not pointer.startswith("#"):
        pointer = f"#/components/schemas/{_escape(pointer)}"
    spec_file = str(spec_path())
    doc, _ = _schema_document(spec_file)
    try:
        _at(doc, pointer)
    except (KeyError, IndexError, ValueError, TypeError):
        raise AssertionError(f"OpenAI's OpenAPI description has no {pointer}") from None
    _check(spec_file, pointer, instance, pointer.rsplit("/", 1)[-1])


def _check(spec_file: str, pointer: str, instance: Any, what: str) -> None:
    errors = list(_validator(spec_file, pointer).iter_errors(instance))
    if not errors:
        return
    errors.sort(key=relevance, reverse=True)
    doc, _ = _schema_document(spec_file)
    node = _at(doc, pointer)
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(node) == 1:
        pointer = node["$ref"]  # name the component rather than the place it is used
    lines = [f"{what} does not conform to {pointer}:"]
    seen: set[str] = set()
    for error in errors:
        line = _describe(error)
        if line not in seen:
            seen.add(line)
            lines.append(f"  - {line}")
        if len(seen) == _MAX_ERRORS:
            break
    if len(errors) > len(seen):
        lines.append(f"  ({len(errors) - len(seen)} more)")
    raise AssertionError("\n".join(lines))


def _json_path(error: ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = reprlib.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: ValidationError) -> str:
    """``$.path.into[0].instance: message``, descending into ``anyOf``/``oneOf`` failures."""
    error, message = _explain(error)
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{_json_path(error)}: {message}"


def _top_mismatch(sub: ValidationError, prop: str | None) -> bool:
    """Whether a branch error shows the instance was not meant for that branch at all."""
    where = list(sub.relative_path)
    if not where:
        return sub.validator in ("type", "enum", "const")
    return prop is not None and where == [prop] and sub.validator in ("enum", "const")


def _explain(error: ValidationError) -> tuple[ValidationError, str]:
    """Like :func:`jsonschema.exceptions.best_match`'s descent into ``anyOf``/``oneOf``, but
    first setting aside branches that fail at the top (a wrong ``type``, or the discriminator
    property not matching), so the message is about the branch the instance was meant for."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        disc = error.schema.get("discriminator") if isinstance(error.schema, dict) else None
        prop = disc.get("propertyName") if isinstance(disc, dict) else None
        if prop is None and isinstance(error.instance, dict) and "type" in error.instance:
            prop = "type"  # OpenAI's variants are told apart by "type" even when undeclared
        off = {i for i, subs in branches.items() if any(_top_mismatch(s, prop) for s in subs)}
        kept = [i for i in branches if i not in off]
        if not kept:
            return error, _none_matched(error, branches, prop)
        if len(kept) == 1:
            error = max(branches[kept[0]], key=relevance)
            continue
        pool = sorted((sub for i in kept for sub in branches[i]), key=relevance)
        if len(pool) >= 2 and relevance(pool[0]) == relevance(pool[1]):
            break
        error = pool[0]
    return error, error.message


def _none_matched(
    error: ValidationError, branches: dict[Any, list[ValidationError]], prop: str | None
) -> str:
    """Every branch failed at the top: say what would have been accepted."""
    if prop is not None and isinstance(error.instance, dict) and prop in error.instance:
        allowed: list[Any] = []
        for subs in branches.values():
            for sub in subs:
                if list(sub.relative_path) == [prop] and sub.validator in ("enum", "const"):
                    values = (
                        sub.validator_value if sub.validator == "enum" else [sub.validator_value]
                    )
                    allowed.extend(v for v in values if v not in allowed)
        if allowed:
            return (
                f"{prop}={_short(error.instance[prop])} matches no variant "
                f"(expected one of {_short(allowed, 200)})"
            )
    wanted: list[str] = []
    types: list[str] = []
    for subs in branches.values():
        for sub in subs:
            if list(sub.relative_path):
                continue
            if sub.validator == "type":
                names = sub.validator_value
                for name in [names] if isinstance(names, str) else list(names):
                    if name not in types:
                        types.append(name)
                break
            if sub.validator in ("enum", "const"):
                text = f"{sub.validator} {_short(sub.validator_value)}"
                if text not in wanted:
                    wanted.append(text)
                break
    if types and not wanted:
        return f"{_short(error.instance)} is not of type {', '.join(map(repr, types))}"
    if types:
        wanted.insert(0, f"type {', '.join(map(repr, types))}")
    summary = "; ".join(wanted) or "see the schema"
    return f"{_short(error.instance)} is not valid under any of the given schemas ({summary})"


# --------------------------------------------------------------------------------------------
# Multipart forms
# --------------------------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], schema: Any) -> Any:
    for _ in range(50):
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref.startswith(_DOC_URI):
                ref = ref[len(_DOC_URI) :]
            if not ref.startswith("#"):
                return {}
            schema = _at(doc, ref)
        else:
            break
    return schema


def _branches(doc: dict[str, Any], schema: Any) -> Iterator[dict[str, Any]]:
    """The schema and, recursively, the members of its ``allOf``/``anyOf``/``oneOf``."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict):
        return
    yield schema
    for keyword in ("allOf", "anyOf", "oneOf"):
        for member in schema.get(keyword, ()):
            yield from _branches(doc, member)


def _types(doc: dict[str, Any], schema: Any) -> set[str]:
    """JSON types the schema may admit (a superset), plus ``"binary"`` for binary strings."""
    found: set[str] = set()
    for branch in _branches(doc, schema):
        declared = branch.get("type")
        if isinstance(declared, str):
            found.add(declared)
        elif isinstance(declared, list):
            found.update(t for t in declared if isinstance(t, str))
        if branch.get("format") == "binary":
            found.add("binary")
        if "enum" in branch and "type" not in branch:
            found.update(_json_type(v) for v in branch["enum"])
    return found


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _property_schema(doc: dict[str, Any], schema: Any, name: str) -> Any:
    for branch in _branches(doc, schema):
        props = branch.get("properties")
        if isinstance(props, dict) and name in props:
            return props[name]
    for branch in _branches(doc, schema):
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict):
            return extra
    return {}


def _items_schema(doc: dict[str, Any], schema: Any) -> Any:
    for branch in _branches(doc, schema):
        if "items" in branch and isinstance(branch["items"], dict):
            return branch["items"]
    return {}


def _form_pairs(form: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(form, Mapping) or hasattr(form, "items"):
        # A multidict's items() yields every value of a repeated name.
        for name, value in form.items():
            if isinstance(value, list):
                yield from ((name, item) for item in value)
            else:
                yield name, value
    else:
        yield from form


_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _form_instance(doc: dict[str, Any], schema: Any, form: Any) -> dict[str, Any]:
    """Rebuild the JSON-like instance a multipart form stands for, coercing text fields."""
    nested: dict[str, Any] = {}
    for raw_name, value in _form_pairs(form):
        if value is None:
            continue  # never sent on the wire
        match = _KEY.match(str(raw_name))
        if match is None:
            keys, append = [str(raw_name)], False
        else:
            subs = re.findall(r"\[([^\[\]]*)\]", match.group(2))
            append = bool(subs) and subs[-1] == ""
            keys = [match.group(1), *(s for s in subs if s)]
        node = nested
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                node = {}
        last = keys[-1]
        if append or last in node:
            current = node.get(last)
            items = (
                current if isinstance(current, list) else ([] if last not in node else [current])
            )
            items.append(value)
            node[last] = items
        else:
            node[last] = value
    coerced: dict[str, Any] = _coerce(doc, schema, nested)
    return coerced


def _coerce(doc: dict[str, Any], schema: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _coerce(doc, _property_schema(doc, schema, k), v) for k, v in value.items()}
    types = _types(doc, schema)
    if isinstance(value, list):
        inner = _items_schema(doc, schema) if "array" in types else schema
        return [_coerce(doc, inner, item) for item in value]
    if _is_file(value):
        if "binary" in types:
            return _placeholder(value)
        value = _file_text(value)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str) or "string" in types or not types:
        return value
    return _from_text(value, types)


def _from_text(text: str, types: set[str]) -> Any:
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return int(number) if re.fullmatch(r"[+-]?\d+", text.strip()) else number
    if "boolean" in types and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    if types & {"object", "array"} and text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return text  # left as text: validation then names the wrong type


def _is_file(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, tuple):  # (filename, content[, content type]) as httpx/requests take
        return len(value) in (2, 3, 4) and (
            isinstance(value[1], (bytes, bytearray, memoryview)) or hasattr(value[1], "read")
        )
    return any(hasattr(value, attr) for attr in ("read", "filename", "file"))


def _file_text(value: Any) -> str:
    content = value[1] if isinstance(value, tuple) else getattr(value, "content", value)
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content).decode("utf-8", "replace")
    return str(content)


def _placeholder(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<binary: {len(bytes(value))} bytes>"
    name = value[0] if isinstance(value, tuple) else getattr(value, "filename", None)
    return f"<file: {name or 'unnamed'}>"

"""Reading a ``multipart/form-data`` body that is already in memory.

The emulator's middleware reads every request body before the handler runs (it is logged
as is), so handlers cannot use aiohttp's streaming multipart reader. This parser works on the
bytes: exact (binary parts are returned untouched), small, and shared by the route handlers and
:meth:`RecordedRequest.form`.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import TypeAlias

from multidict import MultiDict

from .. import FormFile

__all__ = ["Form", "FormField", "content_type_of", "parse_form"]

#: One field: text, or a file part (``FormFile``: filename, content, content type).
FormField: TypeAlias = "str | FormFile"
#: The fields of a form, in order (a multidict: ``form.getall(name)`` gives repeated ones).
Form: TypeAlias = "MultiDict[FormField]"


def content_type_of(headers: Mapping[str, str]) -> str:
    """The ``Content-Type`` header, whatever the case of its name ("" if absent)."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _header_params(header_lines: bytes) -> EmailMessage:
    message = EmailMessage()
    for line in header_lines.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            message[name.strip()] = value.strip()
    return message


def parse_form(body: bytes, content_type: str) -> Form:
    """The fields of a multipart body, in order; repeated names keep every value.

    Text parts are decoded as UTF-8; parts with a ``filename`` become :class:`FormFile`
    (filename, exact bytes, content type, ``application/octet-stream`` when unsaid).

    Raises:
        ValueError: if ``content_type`` is not multipart/form-data with a boundary, or the
            body is not a complete multipart body.
    """
    header = EmailMessage()
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise ValueError(f"not a multipart/form-data body: {content_type!r}")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("the multipart Content-Type has no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(b"\r\n" + delimiter)
    # chunks[0] is the preamble; the last one must be the closing "--" (plus any epilogue).
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise ValueError("the multipart body is incomplete (no closing boundary)")
    fields: MultiDict[FormField] = MultiDict()
    for chunk in chunks[1:-1]:
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("a multipart part has no header/body separator")
        headers = _header_params(head.lstrip(b" \t").removeprefix(b"\r\n"))
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise ValueError("a multipart part has no name")
        filename = headers.get_filename()
        if filename is None:
            fields.add(name, content.decode("utf-8", "replace"))
        else:
            fields.add(
                name,
                FormFile(
                    filename=filename,
                    content=content,
                    content_type=headers.get("Content-Type", "application/octet-stream"),
                ),
            )
    return fields

"""HTTP as an outsider writes it: raw bytes on a socket, headers a client library would correct."""

from __future__ import annotations

import asyncio
import json
from typing import Tuple


async def raw_request(port: int, head: str, body: bytes = b"") -> Tuple[int, dict, dict]:
    """Send `head` (and `body`) as they are; the status, headers and JSON body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    payload = await reader.readexactly(int(headers.get("content-length", "0")))
    writer.close()
    return int(status_line.split()[1]), headers, json.loads(payload or b"{}")


def post_head(path: str, *lines: str) -> str:
    """A POST request's head (request line and headers), ending in the blank line's first CRLF."""
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines, ""]) + "\r\n"

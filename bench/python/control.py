"""The child's side of the bench's line protocol (bench/src/children/control.ts), for Python agents."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Awaitable, Callable

Handler = Callable[[Any], Awaitable[Any]]


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def cpu_micros() -> int:
    return time.process_time_ns() // 1_000


async def serve_control(handlers: dict[str, Handler], quit: Callable[[], Awaitable[None]]) -> None:
    """Answers commands from stdin until `quit` comes or stdin closes, then runs `quit`."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    send({"event": "ready"})
    pending: set[asyncio.Task[None]] = set()

    async def answer(ident: int, handler: Handler, args: Any) -> None:
        try:
            send({"id": ident, "ok": True, "value": await handler(args)})
        except Exception as error:  # the bench shows it, the child goes on
            send({"id": ident, "ok": False, "error": str(error)})

    while line := await reader.readline():
        request = json.loads(line)
        if request["command"] == "quit":
            break
        handler = handlers.get(request["command"])
        if handler is None:
            send({"id": request["id"], "ok": False, "error": f"unknown command {request['command']}"})
            continue
        task = asyncio.create_task(answer(request["id"], handler, request.get("args")))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await quit()

"""A Python agent of the platform: reviews a draft. Run it with `NATS_URL=nats://127.0.0.1:14222 python examples/reviewer.py`
(14222: the NATS of `npm run demo`; the compose stack publishes NATS on 4222).

The workflow test/fixtures/python-sdk/py_blog_post.yaml sends it the draft of the Node llm_agent
and hands its review to the Node drafting_agent.
"""

import logging
from typing import Any

from orchestrator_sdk import Agent, TaskContext

agent = Agent("reviewer", agent_type="utility", max_concurrency=4)


@agent.task("review_draft")
async def review(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    title, content = payload.get("title"), payload.get("content")
    if not isinstance(title, str) or not isinstance(content, str):
        raise ValueError("payload.title and payload.content: must be strings")
    await ctx.progress(0.5, "counting words")
    words = len(content.split())
    findings = [] if words >= 50 else [{"severity": "warning", "message": f"only {words} words"}]
    return {"approved": not findings, "score": min(100, 40 + words // 5), "words": words, "findings": findings}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    agent.run()  # until SIGINT or SIGTERM, then drains

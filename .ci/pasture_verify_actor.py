"""Run fediverse-pasture's verify_actor against one actor and print its result as JSON.

Runs inside the pasture's own venv (see .ci/interop-tools). In 0.2.25 ``get_app()``
misses an argument, so the app is built with ``build_app(...)`` and served by hypercorn
on 127.0.0.1 only. Usage: python pasture_verify_actor.py PORT ACTOR_URI [TIMEOUT_S]
"""

import asyncio
import json
import sys

import aiohttp
from fediverse_pasture.verify_actor import build_app
from hypercorn.asyncio import serve
from hypercorn.config import Config


async def main(port: int, actor_uri: str, wait_s: float) -> None:
    app = build_app(False, f"127.0.0.1:{port}", False, wait_s)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=wait_s * 8)) as client:
            for _ in range(100):  # wait for the server (at most ~10 s)
                try:
                    async with client.get(f"http://127.0.0.1:{port}/static/styles.css") as answer:
                        if answer.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            params = {"actor_uri": actor_uri}
            async with client.get(
                f"http://127.0.0.1:{port}/", params=params, headers={"accept": "application/json"}
            ) as r:
                data = await r.json(content_type=None)
        print(json.dumps({"result": data["result"], "messages": json.loads(data["messages"])}))
    finally:
        stop.set()
        await server


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 20))

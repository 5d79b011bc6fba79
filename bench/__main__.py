"""``make bench``: run the benchmarks (never part of ``make test``)."""

from __future__ import annotations

import asyncio

from bench.graphql_items import main

asyncio.run(main())

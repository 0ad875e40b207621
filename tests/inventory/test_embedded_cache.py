"""The embedded default (SQLite, no Redis) caches product reads, and every worker sees every write.

The catalogue version lives in a file beside the database that every worker maps
(core/shared_version.py); each worker keeps its own entries, checked against that shared stamp.
"""

import json
import multiprocessing
import urllib.request

import pytest

from core.shared_version import SharedVersion
from tests.support.databases import backend
from tests.support.serving import gunicorn


def test_a_stamp_written_by_one_process_is_what_another_reads(tmp_path):
    path = tmp_path / "db.sqlite3-catalogue"
    mine = SharedVersion(path)
    before = mine.read()
    assert mine.read() == before  # reading never changes it
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_replace_in_another_process, args=(str(path),))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert mine.read() != before
    again = mine.replace()
    assert mine.read() == again == SharedVersion(path).read()


def _replace_in_another_process(path: str) -> None:
    SharedVersion(path).replace()


def get_json(url: str, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
def test_an_order_through_one_worker_invalidates_what_every_worker_serves(tmp_path):
    # No memo: each read asks the cache, so what it shows is the cache's doing alone.
    with backend("sqlite", tmp_path, PRODUCT_PAGE_MEMO_MS="0") as db:
        product = db.seed.products[0]
        with gunicorn(db.env, tmp_path / "gunicorn.log", workers=2) as server:
            assert len(server.worker_pids()) == 2
            urls = [f"{server.url}/products/{product}", f"{server.url}/products/"]
            token_reader = {"Authorization": f"Token {db.seed.customers[1]}"}

            def stocks() -> set[int]:
                seen = set()
                # New connections each: gunicorn's sync workers take turns, so both answer.
                for _ in range(12):
                    seen.add(get_json(urls[0])["stock"])
                    seen.add(get_json(urls[0], token_reader)["stock"])
                    listed = get_json(urls[1])["products"]
                    seen.add(next(p["stock"] for p in listed if p["id"] == product))
                return seen

            start = stocks()  # every worker has cached the pages now
            assert len(start) == 1
            expected = start.pop()
            for taken in (3, 5):
                status, _ = post_json(
                    f"{server.url}/orders/",
                    {"product_id": product, "quantity": taken},
                    db.seed.customers[0],
                )
                assert status == 201
                expected -= taken
                assert stocks() == {expected}

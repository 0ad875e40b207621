"""`GET /`: a landing page for browsers, JSON for machines, linking the latest report (issue 12)."""

import json
import os

import pytest
from django.test import Client

LINKS = ["/api/docs/", "/admin/", "/health", "/summary"]


@pytest.fixture
def results_dir(tmp_path, settings):
    settings.LOADTEST_RESULTS_DIR = tmp_path
    return tmp_path


def test_browsers_get_html_with_the_links(db, results_dir):
    response = Client().get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for link in LINKS:
        assert f'href="{link}"' in page
    assert "No load-test report yet" in page
    assert response["X-Request-ID"]


def test_json_on_request(db, results_dir):
    response = Client().get("/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["name"] == "shop"
    assert set(LINKS) <= set(body["links"].values())
    assert body["links"]["latest_report"] is None


def test_latest_report_is_linked_and_served(db, results_dir):
    older = results_dir / "quick_20260101_000000.html"
    newer = results_dir / "race_20260102_000000.html"
    older.write_text("<html>old</html>")
    newer.write_text("<html>new report</html>")
    (results_dir / "index.html").write_text("<html>history</html>")
    (results_dir / "race_20260102_000000_locust.html").write_text("<html>locust's</html>")
    (results_dir / "secret.log").write_text("not served")
    os.utime(older, (1, 1))
    os.utime(newer, (2, 2))
    body = json.loads(Client().get("/", HTTP_ACCEPT="application/json").content)
    assert body["links"]["latest_report"] == "/reports/latest"
    assert body["latest_report_file"] == newer.name
    assert newer.name in Client().get("/").content.decode()
    served = Client().get("/reports/latest")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"<html>new report</html>"


def test_no_report_is_a_json_404(db, results_dir):
    response = Client().get("/reports/latest")
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "not_found"


def test_only_get(db, results_dir):
    response = Client().post("/", {})
    assert response.status_code in (403, 405)  # CSRF refuses a form POST first
    response = Client(enforce_csrf_checks=False).delete("/")
    assert response.status_code == 405
    assert json.loads(response.content)["error"]["code"] == "method_not_allowed"


def test_admin_view_site_leads_to_the_landing_page(admin_client, results_dir):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/"' in page and "View site" in page
    assert Client().get("/").status_code == 200


def test_landing_pages_are_not_in_the_schema(db):
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = json.loads(schema.content)["paths"]
    assert "/" not in paths and not any(path.startswith("/reports") for path in paths)
    assert "/health" in paths

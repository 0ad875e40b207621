import pytest


@pytest.mark.django_db
def test_health_says_ok(anon_client):
    response = anon_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}, "version": "1.0.0"}

from tests.hub.conftest import Actor


def test_secret_client_gets_a_token_and_reads_itself(supplier: Actor) -> None:
    response = supplier.get("/v1/organizations/me")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(supplier.org.id)

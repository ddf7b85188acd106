import pytest
@pytest.mark.django_db
def test_x(client):
    for url in ["/accounts/github/login/", "/accounts/github/login/callback/?code=x&state=y", "/accounts/google/login/", "/accounts/google/login/token/", "/accounts/login/"]:
        try:
            r = client.get(url)
            print(url, r.status_code)
        except Exception as e:
            print(url, "EXC", type(e), e)

import httpx
import pytest

from stancewire.urls import redact_url
from tasks.web import download as dl
from tasks.web.download import DownloadError, check_url, download


@pytest.fixture
def sleeps(monkeypatch):
    calls = []
    monkeypatch.setattr(dl.time, "sleep", calls.append)
    return calls


def client_for(handler):
    return httpx.Client(transport=httpx.MockTransport(handler))


def get(handler, url="https://news.example.com/a", **kwargs):
    kwargs.setdefault("max_bytes", 1000)
    kwargs.setdefault("allow_private_hosts", False)
    return download(client_for(handler), url, **kwargs)


def test_downloads_body_and_content_type():
    got = get(
        lambda r: httpx.Response(200, content=b"<p>ciao</p>", headers={"content-type": "text/html; charset=ISO-8859-1"})
    )
    assert (got.media_type, got.charset, got.body) == ("text/html", "iso-8859-1", b"<p>ciao</p>")


def test_permanent_errors_are_not_retried(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(404)

    with pytest.raises(DownloadError) as err:
        get(handler)
    assert err.value.reason == "http_404"
    assert len(calls) == 1 and sleeps == []


def test_transient_errors_are_retried_with_exponential_backoff(sleeps):
    statuses = iter([503, 502, 200])
    got = get(lambda r: httpx.Response(next(statuses), content=b"ok"))
    assert got.body == b"ok"
    assert sleeps == [dl.BACKOFF_BASE_S, dl.BACKOFF_BASE_S * 2]


def test_retry_after_is_honoured_and_capped(sleeps):
    responses = iter(
        [
            httpx.Response(429, headers={"retry-after": "3"}),
            httpx.Response(429, headers={"retry-after": "9999"}),
            httpx.Response(200),
        ]
    )
    get(lambda r: next(responses))
    assert sleeps == [3.0, dl.MAX_BACKOFF_S]


def test_gives_up_after_max_attempts(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500)

    with pytest.raises(DownloadError) as err:
        get(handler)
    assert err.value.reason == "http_500"
    assert len(calls) == dl.MAX_ATTEMPTS and len(sleeps) == dl.MAX_ATTEMPTS - 1


def test_connection_errors_are_retried_then_reported(sleeps):
    def handler(request):
        raise httpx.ConnectError("connection refused")

    with pytest.raises(DownloadError) as err:
        get(handler)
    assert err.value.reason == "connection_error"
    assert len(sleeps) == dl.MAX_ATTEMPTS - 1


def test_timeouts_are_reported(sleeps):
    def handler(request):
        raise httpx.ReadTimeout("slow")

    with pytest.raises(DownloadError) as err:
        get(handler)
    assert err.value.reason == "timeout"


def test_redirects_are_followed_and_bounded():
    def handler(request):
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"location": f"/{n + 1}"}) if n < 3 else httpx.Response(200, content=b"end")

    assert get(handler, url="https://news.example.com/0").body == b"end"

    def endless(request):
        return httpx.Response(301, headers={"location": "/again"})

    with pytest.raises(DownloadError) as err:
        get(endless)
    assert err.value.reason == "too_many_redirects"


def test_redirect_to_a_private_host_is_refused():
    def handler(request):
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})

    with pytest.raises(DownloadError) as err:
        get(handler)
    assert err.value.reason == "private_host"


def test_size_cap_by_content_length_and_while_streaming():
    with pytest.raises(DownloadError) as err:
        get(lambda r: httpx.Response(200, content=b"x" * 2000))
    assert err.value.reason == "too_large"

    def streamed(request):
        return httpx.Response(200, content=iter([b"x" * 600, b"x" * 600, b"never read"]))

    with pytest.raises(DownloadError) as err:
        get(streamed)
    assert err.value.reason == "too_large"
    assert get(streamed, max_bytes=5000).body.startswith(b"x" * 1200)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://api.localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://2130706433/",
    ],
)
def test_private_hosts_are_refused_unless_allowed(url):
    with pytest.raises(DownloadError) as err:
        check_url(url, allow_private_hosts=False)
    assert err.value.reason == "private_host"
    check_url(url, allow_private_hosts=True)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://example.com/a", "unsupported_scheme"),
        ("http:///nohost", "invalid_url"),
        ("http://x.com:99999/", "invalid_url"),
    ],
)
def test_bad_urls_are_refused(url, reason):
    with pytest.raises(DownloadError) as err:
        check_url(url, allow_private_hosts=True)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://user:pa55@news.example.com/a?id=3&token=s3cret", "https://news.example.com/a?id=3"),
        (
            "https://news.example.com:8443/a?api_key=1&apikey=2&X-Amz-Signature=3&page=2#top",
            "https://news.example.com:8443/a?page=2#top",
        ),
        ("https://news.example.com/search?keyword=dam&access_token=x", "https://news.example.com/search?keyword=dam"),
        ("HTTP://News.Example.com/A", "http://news.example.com/A"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected

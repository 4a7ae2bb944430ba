"""URL hygiene shared by parameters, the fetcher and the store: redacting credentials from URLs, and credentials
by name.

Credentials for sources are named, never written: a URL names them as `${VARIABLE}`
(`https://${FEED_USER}:${FEED_PASS}@host/x`, `https://api.example.com/feed?token=${FEED_TOKEN}`), the variables are
set where runs execute (environment, a deployment's job variables, a `.env` file), and only the fetcher fills them in
(`expand`). URLs with literal credentials are refused (`refuse_literal_credentials`), since run parameters, the
source registry and stored URIs would keep them.
"""

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAM = re.compile(
    r"(?:^|[_.-])(?:token|api_?key|apikey|key|secret|password|passwd|pwd|auth|authorization|sig|signature|"
    r"session|sessionid|sid|credentials?)$|^x-(?:amz|goog)-",
    re.IGNORECASE,
)

_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def is_secret_param(name: str) -> bool:
    return bool(_SECRET_PARAM.search(name))


def redact_url(url: str) -> str:
    """The URL without user:password@ and without query parameters that look like secrets (token, key, sig...)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable url>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SECRET_PARAM.search(k)]
    )
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, parts.fragment))


def scrub_urls(text: str) -> str:
    """`text` with every URL in it redacted."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingSecret(LookupError):
    """A URL names a variable that is not set."""


def literal_credentials(url: str) -> bool:
    """True when the URL carries a user, password or secret-looking query parameter written out (not `${NAME}`)."""
    if "://" not in url:
        return False
    try:
        parts = urlsplit(_PLACEHOLDER.sub("", url))
    except ValueError:
        return False
    userinfo = parts.netloc.rpartition("@")[0]
    secret_values = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if is_secret_param(k)]
    return bool(userinfo.replace(":", "")) or any(secret_values)


def refuse_literal_credentials(url: str) -> str:
    """`url` itself; ValueError (one line, without the credentials) when it carries literal credentials."""
    if literal_credentials(url):
        raise ValueError(
            f"{redact_url(url)}: credentials written in a URL would be stored; name them instead, as "
            "https://${USER_VAR}:${PASS_VAR}@host/path or ?token=${TOKEN_VAR}, and set those variables where runs execute"
        )
    return url


def expand(url: str) -> tuple[str, list[str]]:
    """The URL with every `${NAME}` replaced by the variable's value, and the values (to keep out of messages).
    Raises MissingSecret naming the first variable that is not set."""
    values: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise MissingSecret(f"{redact_url(url)} names ${{{name}}}, which is not set where this run executes")
        values.append(os.environ[name])
        return os.environ[name]

    return _PLACEHOLDER.sub(value, url), values

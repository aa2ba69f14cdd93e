"""The client's address for sign-in throttling (django-axes' ``AXES_CLIENT_IP_CALLABLE``).

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each of which appends the
address it received the request from to ``X-Forwarded-For`` (nginx's
``$proxy_add_x_forwarded_for``), the client is the entry that the outermost
proxy appended: the ``TRUSTED_PROXY_COUNT``-th from the right.  Whatever a
client sends in its own ``X-Forwarded-For`` stays left of that entry, so a
forged header can neither move an attacker onto the victim's address (and
lock the victim out) nor give every attempt a fresh address (and escape the
lockout).

The header is cut on plain commas here, before any parsing: ``X-Forwarded-For``
has no quoting, and a parser that honours RFC 7239 quotes (python-ipware's
does) lets a forged ``1.2.3.4, "`` swallow the entry the proxy appended,
leaving the forged address right-most.  python-ipware (the engine of
django-ipware) then parses only the trusted entries (ports, IPv6 brackets,
IPv4-mapped addresses); its ``proxy_count`` counts the proxy entries inside
the header, one fewer than the proxies in front, because the last proxy's
own address is ``REMOTE_ADDR``, not a header entry.

With ``TRUSTED_PROXY_COUNT = 0`` (no proxy: development, the load test on
loopback) the header is any client's invention and is ignored.
"""

from django.conf import settings
from django.http import HttpRequest
from python_ipware import IpWare


def client_ip(request: HttpRequest) -> str | None:
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        trusted = forwarded.split(",")[-proxies:]
        if len(trusted) == proxies:
            ipware = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=proxies - 1)
            address, _ = ipware.get_client_ip(
                {"HTTP_X_FORWARDED_FOR": ",".join(trusted)}, strict=True
            )
            if address is not None:
                return str(address)
    # No proxy, or a request that did not come through it (a health check on
    # loopback), or a proxy that wrote something unreadable: the socket's
    # peer is the best address there is.
    return request.META.get("REMOTE_ADDR")

"""The system's name resolver, behind the ``Resolver`` port of ``integrator.domain.public_urls``."""

from __future__ import annotations

import socket

from integrator.domain.public_urls import HostNotFound, ResolverUnavailable

# getaddrinfo's answers that mean "ask again later", not "this name does not exist"
_TEMPORARY = {socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", socket.EAI_AGAIN)}


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), as the operating system answers.

    :raises HostNotFound: the name does not exist or has no address.
    :raises ResolverUnavailable: a temporary failure (no answer from the DNS servers).
    """
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in _TEMPORARY:
            raise ResolverUnavailable(f"{host}: {error.strerror}") from error
        raise HostNotFound(host) from error
    except UnicodeError as error:
        raise HostNotFound(host) from error
    return sorted({str(info[4][0]) for info in answers})

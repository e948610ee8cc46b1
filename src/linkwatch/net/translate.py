"""The one place where foreign exceptions (aiohttp, ssl, socket, asyncio) become `NetError`."""

from __future__ import annotations

import errno
import socket
import ssl

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from linkwatch.errors import NetError
from linkwatch.model import ErrorKind


def _os_error_kind(error: OSError) -> ErrorKind:
    if isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED:
        return ErrorKind.REFUSED
    if isinstance(error, ConnectionResetError) or error.errno in (errno.ECONNRESET, errno.EPIPE):
        return ErrorKind.RESET
    if isinstance(error, TimeoutError) or error.errno == errno.ETIMEDOUT:
        return ErrorKind.TIMEOUT
    return ErrorKind.UNREACHABLE


def _tls_detail(exc: BaseException) -> str:
    cause = (
        exc.certificate_error if isinstance(exc, aiohttp.ClientConnectorCertificateError) else exc
    )
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError) and cause.reason:
        return f"TLS error: {cause.reason}"
    return f"TLS error: {cause}"


def translate_error(exc: BaseException) -> NetError:
    """Map an aiohttp / ssl / socket / asyncio exception to the most specific NetError.

    Order matters: aiohttp's classes inherit from several builtin ones at once
    (a DNS error is a connector error is an OSError), so specific cases go first.
    """
    if isinstance(exc, NetError):
        return exc
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return NetError(
            ErrorKind.DNS, f"cannot resolve {exc.host}: {exc.os_error.strerror or exc.os_error}"
        )
    if isinstance(exc, socket.gaierror):
        return NetError(ErrorKind.DNS, f"cannot resolve host: {exc.strerror or exc}")
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError | ssl.CertificateError):
        return NetError(ErrorKind.TLS, _tls_detail(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = _os_error_kind(exc.os_error)
        reason = "connection refused" if kind is ErrorKind.REFUSED else exc.os_error.strerror
        return NetError(kind, f"cannot connect to {exc.host}:{exc.port}: {reason or exc.os_error}")
    if isinstance(exc, ValueError):  # aiohttp.InvalidURL, yarl's parse, IDNA encoding
        return NetError(ErrorKind.INVALID_URL, f"invalid URL: {exc}")
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp's timeouts alike
        return NetError(ErrorKind.TIMEOUT, f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return NetError(ErrorKind.RESET, f"connection closed mid-answer: {exc}")
    if isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        message = getattr(exc, "message", "") or str(exc)
        return NetError(ErrorKind.PROTOCOL, f"broken HTTP answer: {message}")
    if isinstance(exc, OSError):
        return NetError(_os_error_kind(exc), f"network error: {exc.strerror or exc}")
    if isinstance(exc, aiohttp.ClientError):
        return NetError(ErrorKind.PROTOCOL, f"HTTP client error: {type(exc).__name__}: {exc}")
    return NetError(ErrorKind.PROTOCOL, f"unexpected {type(exc).__name__}: {exc}")

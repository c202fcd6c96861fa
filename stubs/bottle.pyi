# Partial type stubs for bottle 0.13: the parts this project uses, as bottle.py defines them.
# Bottle ships no type hints (no py.typed marker) and typeshed has no stubs for it; without
# these, every route decorator would make its function untyped under mypy --strict. The
# module-level __getattr__ marks the stub incomplete: anything not listed here is Any.

from collections.abc import Callable, Iterable
from typing import IO, Any, TypeVar, overload

_F = TypeVar("_F", bound=Callable[..., Any])
_Methods = str | Iterable[str]
_StartResponse = Callable[..., Any]

def __getattr__(name: str) -> Any: ...

class BottleException(Exception): ...

class BaseRequest:
    environ: dict[str, Any]
    @property
    def method(self) -> str: ...
    @property
    def body(self) -> IO[bytes]: ...

class BaseResponse:
    content_type: str
    @property
    def status(self) -> str: ...
    @status.setter
    def status(self, status: int | str) -> None: ...
    @property
    def status_code(self) -> int: ...
    def set_header(self, name: str, value: str) -> None: ...

class LocalRequest(BaseRequest): ...
class LocalResponse(BaseResponse): ...
class HTTPResponse(BaseResponse, BottleException): ...

class HTTPError(HTTPResponse):
    exception: BaseException | None
    traceback: str | None

class Bottle:
    def __init__(self, **kwargs: Any) -> None: ...
    @overload
    def route(
        self, path: str | None = None, method: _Methods = "GET", *, callback: _F, **config: Any
    ) -> _F: ...
    @overload
    def route(
        self, path: str | None = None, method: _Methods = "GET", **config: Any
    ) -> Callable[[_F], _F]: ...
    @overload
    def get(
        self, path: str | None = None, method: _Methods = "GET", *, callback: _F, **options: Any
    ) -> _F: ...
    @overload
    def get(
        self, path: str | None = None, method: _Methods = "GET", **options: Any
    ) -> Callable[[_F], _F]: ...
    @overload
    def post(
        self, path: str | None = None, method: _Methods = "POST", *, callback: _F, **options: Any
    ) -> _F: ...
    @overload
    def post(
        self, path: str | None = None, method: _Methods = "POST", **options: Any
    ) -> Callable[[_F], _F]: ...
    # A method in bottle.py; an instance may replace it with its own (collector/app.py does).
    default_error_handler: Callable[[HTTPError], bytes]
    def wsgi(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]: ...
    def __call__(
        self, environ: dict[str, Any], start_response: _StartResponse
    ) -> Iterable[bytes]: ...

request: LocalRequest
response: LocalResponse

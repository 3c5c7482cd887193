"""Exceptions raised for libfastflow's status codes.

Every failing call raises a subclass of :class:`FastFlowError` carrying the
numeric ``status`` (``enum ff_status_code``), the library's ``message``
(``ff_last_error_message()``: which file, which tensor, which byte offset)
and the C ``function`` that failed.
"""

from . import _lib

OK = 0
INVALID_ARGUMENT = 1
IO = 2
BAD_FORMAT = 3
UNSUPPORTED = 4
OUT_OF_MEMORY = 5
BUFFER_TOO_SMALL = 6
LIMIT_EXCEEDED = 7
STATE = 8
NUMERIC = 9
INTERNAL = 10


class FastFlowError(Exception):
    """A libfastflow call failed: ``status`` is the code, ``message`` the detail."""

    def __init__(self, status, message="", function=None):
        self.status = int(status)
        self.message = message
        self.function = function
        super().__init__(status, message)

    def __str__(self):
        where = "%s: " % self.function if self.function else ""
        text = self.message or status_string(self.status)
        return "%s%s (%s)" % (where, text, status_string(self.status))

    def __reduce__(self):
        return (type(self), (self.status, self.message, self.function))


class InvalidArgument(FastFlowError, ValueError):
    """FF_E_INVALID_ARGUMENT: NULL, out-of-range value, wrong size, NaN."""


class IOFailure(FastFlowError):
    """FF_E_IO: a file could not be opened, read or written."""


class BadFormat(FastFlowError):
    """FF_E_BAD_FORMAT: corrupt or truncated image, tensor or model file."""


class Unsupported(FastFlowError):
    """FF_E_UNSUPPORTED: valid but not supported (e.g. an unknown architecture)."""


class OutOfMemory(FastFlowError, MemoryError):
    """FF_E_OUT_OF_MEMORY."""


class BufferTooSmall(FastFlowError):
    """FF_E_BUFFER_TOO_SMALL: a caller buffer is below the size needed."""


class LimitExceeded(FastFlowError):
    """FF_E_LIMIT_EXCEEDED: e.g. an image above the configured pixel limit."""


class StateError(FastFlowError):
    """FF_E_STATE: the call is not valid in the object's current state."""


class NumericError(FastFlowError, ArithmeticError):
    """FF_E_NUMERIC: NaN or Inf appeared in a computation."""


class InternalError(FastFlowError):
    """FF_E_INTERNAL: a bug or a oneDNN failure; please report it."""


ERROR_CLASSES = {
    INVALID_ARGUMENT: InvalidArgument,
    IO: IOFailure,
    BAD_FORMAT: BadFormat,
    UNSUPPORTED: Unsupported,
    OUT_OF_MEMORY: OutOfMemory,
    BUFFER_TOO_SMALL: BufferTooSmall,
    LIMIT_EXCEEDED: LimitExceeded,
    STATE: StateError,
    NUMERIC: NumericError,
    INTERNAL: InternalError,
}


def status_string(status):
    """The library's static description of a status code."""
    return _lib.lib().ff_status_string(int(status)).decode("utf-8", "replace")


def error_for(status, message="", function=None):
    """The exception instance for a status (FastFlowError for unknown codes)."""
    cls = ERROR_CLASSES.get(int(status), FastFlowError)
    return cls(status, message, function)


def check(status, function=None):
    """Raises the matching exception when ``status`` is not FF_OK.

    Must run right after the failed call on the same thread: the message is
    the calling thread's last error, and ctypes keeps the OS thread."""
    if status != OK:
        raw = _lib.lib().ff_last_error_message()
        message = raw.decode("utf-8", "replace") if raw else ""
        raise error_for(status, message, function)

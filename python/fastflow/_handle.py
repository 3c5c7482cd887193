"""Owning wrappers of the library's opaque handles, and checked calls."""

import functools
import threading

from . import _lib
from .errors import STATE, StateError, check


def call(name, *args):
    """Calls ff_<name> and raises the matching FastFlowError on failure."""
    check(getattr(_lib.lib(), name)(*args), name)


class Handle:
    """Owns one C handle and frees it exactly once.

    ``close()`` (or leaving a ``with`` block) frees it deterministically;
    ``__del__`` frees what is left at garbage collection. The destroy
    function is kept on the instance so that freeing never looks up module
    globals, which may already be gone at interpreter shutdown. The C
    objects reference-count their parents, so handles may be closed in any
    order; a Python wrapper also keeps its parents' wrappers alive so that
    borrowed pointers stay valid."""

    _destroy_name = None  # e.g. "ff_flow_destroy"; None: a borrowed handle

    def __init__(self, ptr, parents=()):
        self._ptr = ptr
        self._parents = tuple(parents)
        self._destroy = getattr(_lib.lib(), self._destroy_name) if self._destroy_name else None

    @property
    def closed(self):
        return self._ptr is None

    def _handle(self):
        """The live C pointer; ValueError once closed."""
        if self._ptr is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr

    def close(self):
        """Frees the C object now. Closing twice does nothing."""
        ptr, self._ptr = self._ptr, None
        destroy, self._destroy = self._destroy, None
        if ptr is not None and destroy is not None:
            destroy(ptr)
        self._parents = ()

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        # Never raise from a finaliser (half-initialised objects, shutdown).
        try:
            self.close()
        except Exception:
            pass


class WorkingHandle(Handle):
    """A handle of a working object (scorer, trainer, extractor): one thread
    at a time, as in C. The library refuses a call that overlaps another on
    the same object (FF_E_STATE); the wrapper's own state (the last call's
    shape and count, reused between calls) needs the same guard, so every
    public method runs under :func:`exclusive`, and a second thread gets a
    StateError at once instead of waiting or mixing results."""

    _advice = "create one per thread"

    def __init__(self, ptr, parents=()):
        # reentrant: a method may call another of the same object
        self._busy = threading.RLock()
        super().__init__(ptr, parents)

    def _refuse(self, function):
        kind = type(self).__name__
        return StateError(STATE, "this %s is in use by another thread (a call on it is under way); it is for one "
                          "thread at a time: %s" % (kind, self._advice), function)

    def close(self):
        """Frees the C object now; StateError while another thread uses it."""
        busy = getattr(self, "_busy", None)
        if busy is None:  # half-initialised
            return super().close()
        if not busy.acquire(blocking=False):
            raise self._refuse("close")
        try:
            super().close()
        finally:
            busy.release()


def exclusive(method):
    """Runs a WorkingHandle method with the object held by the calling thread
    (see WorkingHandle); another thread calling meanwhile gets StateError."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if not self._busy.acquire(blocking=False):
            raise self._refuse(method.__name__)
        try:
            return method(self, *args, **kwargs)
        finally:
            self._busy.release()

    return run

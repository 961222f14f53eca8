"""Tensor, Context, Function and register: the seed's design, made correct."""

from __future__ import annotations

import inspect
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partialmethod
from typing import Any

import numpy as np

from anet.errors import AnetError
from anet.words import a_or_an

_ids = itertools.count(1)


class _GradMode(threading.local):
    enabled = True  # in this thread (no_grad is per thread, as in PyTorch)


_mode = _GradMode()
_no_grad_lock = threading.Lock()
_no_grad_active = 0  # no_grad blocks open in all threads
# True while no thread is inside no_grad: Function.apply reads this global first (hot path) and
# asks the thread-local mode only when some thread has turned grads off.
_grad_enabled = True
# Set by anet.debug.record(): called as hook(ctx, out, depth) after every recorded op, where
# sys._getframe(depth) in the hook is the frame that applied the op (apply's caller, or the
# operator's: the first that may be the user's).
_apply_hook: Callable[[Context, Tensor, int], None] | None = None


def set_apply_hook(hook: Callable[[Context, Tensor, int], None] | None) -> None:
    """Install (or remove, with None) the function called after every recorded op, as
    ``hook(ctx, out, depth)``: ``sys._getframe(depth)`` in the hook is whoever applied it."""
    global _apply_hook
    _apply_hook = hook


_backward_hook: Callable[[Tensor, Any], None] | None = None


def set_backward_hook(hook: Callable[[Tensor, Any], None] | None) -> None:
    """Install (or remove, with None) what ``Tensor.backward(gradient)`` calls instead of
    walking: ``hook(tensor, gradient)``. ``anet-tui check`` walks each call as a checked
    session this way, at the moment the script makes it."""
    global _backward_hook
    _backward_hook = hook


def apply_hook() -> Callable[[Context, Tensor, int], None] | None:
    """The function called after every recorded op (None when nothing is recording)."""
    return _apply_hook


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops build no graph: results have no ``_ctx``. Per thread: another
    thread's graph building goes on."""
    global _grad_enabled, _no_grad_active
    previous, _mode.enabled = _mode.enabled, False
    with _no_grad_lock:
        _no_grad_active += 1
        _grad_enabled = False
    try:
        yield
    finally:
        _mode.enabled = previous
        with _no_grad_lock:
            _no_grad_active -= 1
            _grad_enabled = _no_grad_active == 0


def is_grad_enabled() -> bool:
    """Whether ops applied now, in this thread, build a graph."""
    return _grad_enabled or _mode.enabled


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """The numpy array a Tensor holds: lists and numbers become float32, arrays keep their dtype."""
    if type(data) is np.ndarray:
        arr = data if dtype is None else data.astype(dtype, copy=False)
    elif isinstance(data, Tensor):
        arr = data.data if dtype is None else data.data.astype(dtype, copy=False)
    elif isinstance(data, (str, bytes)):
        raise TypeError(
            f"Tensor: cannot make a Tensor from {a_or_an(type(data).__name__)} ({data!r:.40})"
        )
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data, dtype=dtype)
    elif data is None:
        raise TypeError("Tensor: cannot make a Tensor from None (a number or array is needed)")
    else:
        try:
            arr = np.asarray(data, dtype=dtype if dtype is not None else np.float32)
        except (TypeError, ValueError) as e:
            if _holds_complex(data):
                raise TypeError(_COMPLEX) from None
            raise TypeError(
                f"Tensor: cannot make a Tensor from {type(data).__name__}: {e}"
            ) from None
        if arr.dtype.kind == "f" and np.isnan(arr).any() and _holds_none(data):
            raise TypeError(
                f"Tensor: {type(data).__name__} holds None, which is not a number "
                "(numpy would make it nan)"
            )
    kind = arr.dtype.kind
    if kind in "OUSVMm":
        raise TypeError(f"Tensor: cannot hold an array of dtype {arr.dtype} (numbers only)")
    if kind == "c":
        raise TypeError(f"{_COMPLEX} (got an array of dtype {arr.dtype})")
    return arr


_COMPLEX = "Tensor: complex numbers are not supported (anet differentiates real tensors only)"


def _holds_none(data: Any) -> bool:
    """Whether ``data`` (nested lists or tuples) holds None somewhere."""
    stack = [data]
    while stack:
        d = stack.pop()
        if d is None:
            return True
        if isinstance(d, (list, tuple)):
            stack.extend(d)
    return False


def _holds_complex(data: Any) -> bool:
    """Whether ``data`` (a number or nested lists) holds a complex number."""
    try:
        return np.asarray(data).dtype.kind == "c"
    except (TypeError, ValueError):
        return False


class Tensor:
    """A value in the graph: ``data`` (numpy array), ``grad`` (numpy array or None), ``_ctx``.

    Integer and boolean tensors never require grad: they are constants (labels, indices, masks),
    whether made directly or returned by an op. Mixed with float tensors in an op they follow
    numpy's promotion (int32/int64 with float32 computes in float64). Complex data is refused.
    """

    __slots__ = ("__weakref__", "_ctx", "data", "grad", "id", "requires_grad")
    __array_priority__ = 1000  # numpy defers to Tensor in `np_array * tensor`

    def __init__(
        self,
        data: Any,
        requires_grad: bool = True,
        dtype: Any = None,
        device: str = "cpu",
    ) -> None:
        if device != "cpu":
            raise ValueError(f"Tensor: device {device!r} is not available; anet runs on 'cpu' only")
        self.data = _to_array(data, dtype)
        self.grad: np.ndarray | None = None
        self._ctx: Context | None = None
        self.requires_grad = bool(requires_grad) and self.data.dtype.kind == "f"
        self.id = next(_ids)

    # ---- creation -------------------------------------------------------------------------
    @classmethod
    def zeros(cls, *shape: Any, **kw: Any) -> Tensor:
        return cls(np.zeros(_shape(shape), dtype=kw.pop("dtype", np.float32)), **kw)

    @classmethod
    def ones(cls, *shape: Any, **kw: Any) -> Tensor:
        return cls(np.ones(_shape(shape), dtype=kw.pop("dtype", np.float32)), **kw)

    @classmethod
    def randn(cls, *shape: Any, **kw: Any) -> Tensor:
        dtype = kw.pop("dtype", np.float32)
        return cls(np.random.standard_normal(_shape(shape)).astype(dtype), **kw)

    @classmethod
    def uniform(cls, *shape: Any, low: float = -1.0, high: float = 1.0, **kw: Any) -> Tensor:
        dtype = kw.pop("dtype", np.float32)
        return cls(np.random.uniform(low, high, _shape(shape)).astype(dtype), **kw)

    @classmethod
    def eye(cls, n: int, m: int | None = None, **kw: Any) -> Tensor:
        return cls(np.eye(n, m, dtype=kw.pop("dtype", np.float32)), **kw)

    @classmethod
    def arange(cls, start: float, stop: float | None = None, step: float = 1, **kw: Any) -> Tensor:
        if stop is None:
            start, stop = 0, start
        return cls(np.arange(start, stop, step, dtype=kw.pop("dtype", np.float32)), **kw)

    # ---- what it is --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def op(self) -> str:
        """Name of the Function that made this tensor, or "leaf"."""
        return "leaf" if self._ctx is None else self._ctx.arg.__name__

    @property
    def is_leaf(self) -> bool:
        """Whether no op made this tensor (it has no ``_ctx``): PyTorch's name."""
        return self._ctx is None

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors the op that made this one was applied to; () for a leaf."""
        ctx = self._ctx
        return () if ctx is None else ctx.parents

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(
                f"item(): tensor has {self.data.size} elements, not one (shape {self.shape})"
            )
        return self.data.item()

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """``x[0], x[1], …`` along the first axis, each in the graph (``sum(x)`` backprops)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __contains__(self, value: Any) -> bool:
        """numpy's ``in``: whether any entry equals ``value`` (``(x == value).any()``)."""
        if isinstance(value, Tensor):
            value = value.data
        return bool((self.data == value).any())

    def __repr__(self) -> str:
        grad = "None" if self.grad is None else str(self.grad.shape)
        head = f"<Tensor #{self.id} {self.op} {self.shape} {self.dtype}"
        if self.data.size <= 6:
            values = np.array2string(self.data, separator=", ", precision=4).replace("\n", "")
            head += f" {values}"
        return f"{head} grad={grad}>"

    # ---- the graph ---------------------------------------------------------------------------
    def backward(self, gradient: Any = None) -> None:
        """Fill ``.grad`` of every tensor this one depends on (see anet.autograd.backward)."""
        if _backward_hook is not None:
            _backward_hook(self, gradient)
            return
        from anet.autograd import backward

        backward(self, gradient)

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data, requires_grad=False)

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index.data
        return self.getitem(index=index)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy 2's protocol: ``copy=True`` copies, ``False`` never does (ValueError when a
        dtype conversion needs one), None copies only when needed."""
        data = self.data
        if copy is False:
            if dtype is not None and np.dtype(dtype) != data.dtype:
                raise ValueError(
                    f"Tensor: cannot convert {data.dtype} to {np.dtype(dtype)} without a copy"
                )
            return data
        if copy:
            return np.array(data, dtype=dtype, copy=True)
        return data if dtype is None else data.astype(dtype, copy=False)


# Tensor's own attributes (and object's): register() refuses them. Ops attached later (anet.ops's
# @op, register) are not among them, so redefining an op stays allowed.
_OWN_ATTRIBUTES = frozenset(vars(Tensor)) | frozenset(dir(object))


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


# One table per dtype, keyed by the number; zero by its sign too: 0.0 == -0.0, but 1/-0.0 is -inf.
_constants: dict[np.dtype, dict[Any, Tensor]] = {}


def _const(value: Any, like: Tensor) -> Tensor:
    """A Python number (or array) as a constant Tensor, in ``like``'s float dtype.

    Constants of numbers are cached, read-only: ``y * 0.5`` in a loop makes one Tensor, a leaf
    that never requires grad, shared by every op that used 0.5 (one id in the debugger).
    """
    if type(value) is not float and type(value) is not int:
        if isinstance(value, Tensor):
            return value
        if not isinstance(value, (np.floating, np.integer)):
            if value is None:
                raise TypeError(
                    f"None is not a number: it cannot be an operand of an op on {like!r}"
                )
            return Tensor(value, requires_grad=False)
        value = value.item()  # numpy scalars behave as Python numbers do: they keep x's dtype
    dtype = like.data.dtype
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)
    table = _constants.get(dtype)
    if table is None:
        table = _constants[dtype] = {}
    key = value if value else (value, math.copysign(1.0, value))
    t = table.get(key)
    if t is None or t.requires_grad:  # (someone turned it on: make a fresh one)
        if len(table) > 4096:
            table.clear()
        with np.errstate(over="ignore"):
            data = np.asarray(value, dtype=dtype)
        kind = Tensor
        if dtype == np.float16 and float(data) != value and value == value:
            # Not a float16 number (1e5 overflows, 0.1 rounds): kept in float32, the op computes
            # in float32 and rounds its result to float16 once, as PyTorch does.
            data, kind = np.asarray(value, dtype=np.float32), _WideConstant
        data.flags.writeable = False
        t = table[key] = Tensor.__new__(kind)
        t.data = data
        t.grad = t._ctx = None
        t.requires_grad = False
        t.id = next(_ids)
    return t


class _WideConstant(Tensor):
    """A Python number that float16 cannot hold, kept in float32 for a float16 tensor's op: the
    op's float32 result (and its float16 parents' grads) are rounded to float16 by apply and the
    walk, so the result is float16 and as exact as float16 allows."""

    __slots__ = ()


def _narrows(ctx: Context) -> bool:
    """Whether ``ctx``'s op mixes float16 tensors (no wider float ones) with a _WideConstant:
    its result is float16."""
    wide = half = False
    for p in ctx.parents:
        if type(p) is _WideConstant:
            wide = True
        elif p.data.dtype == np.float16:
            half = True
        elif p.data.dtype.kind == "f":
            return False  # a float32/float64 tensor: numpy's promotion stands
    return wide and half


class Context:
    """What backward needs to know about one op application.

    ``arg`` is the Function subclass, ``parents`` the Tensors it was applied to, ``saved_tensors``
    what forward saved. The op's keyword arguments are in ``kwargs`` and readable as attributes
    (``ctx.axis``); a Function may also set attributes of its own (``ctx.mask = …``).

    The debugger's bookkeeping has slots of its own: ``where`` (``(filename, lineno, source)`` of
    the user's line that applied the op) and ``fingerprints`` (``(saved, parents)`` crc32s), set
    by ``anet.debug.record()`` and None otherwise; ``narrowed``, True when the op computed in
    float32 a result rounded to float16 (see _WideConstant).
    """

    __slots__ = (
        "__dict__",
        "arg",
        "fingerprints",
        "kwargs",
        "narrowed",
        "parents",
        "saved_tensors",
        "where",
    )

    def __init__(self, arg: type[Function], *tensors: Tensor) -> None:
        self.arg = arg
        self.parents = tensors
        self.saved_tensors: list[Any] = []
        self.kwargs: dict[str, Any] = {}  # Function.apply sets the op's keyword arguments
        self.where: tuple[str, int, str] | None = None
        self.fingerprints: tuple[tuple[int | None, ...], tuple[int, ...]] | None = None
        self.narrowed = False

    def save_for_backward(self, *x: Any) -> None:
        self.saved_tensors.extend(x)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(t.requires_grad for t in self.parents)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: fall back to the op's keyword arguments.
        try:
            return self.kwargs[name]
        except KeyError:
            raise AttributeError(f"{self.arg.__name__} context has no attribute {name!r}") from None

    def __repr__(self) -> str:
        return f"<Context {self.arg.__name__} parents={[f'#{t.id}' for t in self.parents]}>"


class Function:
    """Base class of every op: subclasses define static ``forward(ctx, *arrays, **kwargs)``
    and ``backward(ctx, grad_output)`` returning one array, or a tuple with one per parent."""

    # A trusted op's backward never writes into its inputs: anet.autograd runs it without the
    # read-only lock, the fingerprints and the grad un-aliasing. anet's built-in ops declare it
    # (anet.ops.op); every other Function is checked.
    trusted = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Trust is never inherited: ``class MyReLU(ReLU)`` with a backward of its own runs
        # checked, unless its class body says ``trusted = True`` itself.
        if "trusted" not in cls.__dict__:
            cls.trusted = False

    def apply(self: Tensor, arg: type[Function], *x: Any, **kwargs: Any) -> Tensor:
        # As in the seed, apply is attached to Tensor: `self` is the first Tensor operand.
        narrow = type(self) is not Tensor  # (a _WideConstant, a subclass: see below)
        for t in x:
            if type(t) is not Tensor:
                x = tuple(t if isinstance(t, Tensor) else _const(t, self) for t in x)
                narrow = narrow or self.data.dtype.char == "e"  # float16: maybe a wide constant
                break
        ctx = Context(arg, self, *x)
        ctx.kwargs = kwargs
        try:
            if kwargs:
                for v in kwargs.values():
                    if v is None:  # (`is`: an option may be an array)
                        _check_none_options(arg, kwargs)
                        break
                out = arg.forward(ctx, self.data, *[t.data for t in x], **kwargs)
            elif len(x) == 1:  # a binary op: the common case, called the fast way
                out = arg.forward(ctx, self.data, x[0].data)
            elif not x:
                out = arg.forward(ctx, self.data)
            else:
                out = arg.forward(ctx, self.data, *[t.data for t in x])
        except AnetError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            shapes = ", ".join(str(t.shape) for t in ctx.parents)
            raise OpError(f"{arg.__name__} on shapes {shapes}: {e}") from e
        floating = True
        if narrow and _narrows(ctx):
            ctx.narrowed = True  # float16 parents' float32 grads are converted too
            if type(out) is np.ndarray and out.dtype == np.float32:
                out = out.astype(np.float16)
        if type(out) is not np.ndarray or out.dtype.kind != "f":
            out = _forward_result(arg, out)
            floating = out.dtype.kind == "f"
        ret = Tensor.__new__(Tensor)
        ret.data = out
        ret.grad = None
        ret.id = next(_ids)
        # The result joins the graph when any operand requires grad (written out: it is hot).
        requires_grad = self.requires_grad
        if not requires_grad:
            for t in x:
                if t.requires_grad:
                    requires_grad = True
                    break
        if requires_grad and floating and (_grad_enabled or _mode.enabled):
            ret._ctx = ctx
            ret.requires_grad = True
            if _apply_hook is not None:
                _apply_hook(ctx, ret, 2)  # 0 the hook, 1 apply, 2 apply's caller
        else:
            ret._ctx = None
            ret.requires_grad = False
        return ret


def _binary(self: Tensor, arg: type[Function], other: Tensor) -> Tensor:
    """``Function.apply(self, arg, other)`` for two Tensors and no options, the path of the
    operators and of binary methods (``x * y``, ``x + 0.5``, ``x.dot(w)``): the same Context,
    the same result and the same checks, without apply's argument packing (a tenth of an op's
    cost on small tensors). tests/anet/test_binary_path.py holds it to apply."""
    ctx = Context(arg, self, other)
    try:
        out = arg.forward(ctx, self.data, other.data)
    except AnetError:
        raise
    except (ValueError, TypeError, IndexError) as e:
        raise OpError(f"{arg.__name__} on shapes {self.shape}, {other.shape}: {e}") from e
    floating = True
    if (type(self) is not Tensor or type(other) is not Tensor) and _narrows(ctx):
        ctx.narrowed = True  # (a _WideConstant: see apply)
        if type(out) is np.ndarray and out.dtype == np.float32:
            out = out.astype(np.float16)
    if type(out) is not np.ndarray or out.dtype.kind != "f":
        out = _forward_result(arg, out)
        floating = out.dtype.kind == "f"
    ret = Tensor.__new__(Tensor)
    ret.data = out
    ret.grad = None
    ret.id = next(_ids)
    if (
        (self.requires_grad or other.requires_grad)
        and floating
        and (_grad_enabled or _mode.enabled)
    ):
        ret._ctx = ctx
        ret.requires_grad = True
        if _apply_hook is not None:
            _apply_hook(ctx, ret, 3)  # 0 the hook, 1 here, 2 anet.ops' method, 3 its caller
    else:
        ret._ctx = None
        ret.requires_grad = False
    return ret


class OpError(AnetError, ValueError):
    """An op was applied to inputs it cannot take (shapes, dtypes, arguments)."""


class OptionError(OpError, TypeError):
    """An op's option has the wrong type (``leakyrelu(None)``): an OpError and a TypeError."""


def _forward_result(arg: type[Function], out: Any) -> np.ndarray:
    """What forward returned, as a plain array: numpy scalars and Python numbers become 0-d
    arrays, integer and boolean results are kept (they never require grad); anything else, or
    an array of complex numbers, objects or strings, is an OpError naming the op."""
    if isinstance(out, (np.generic, int, float)) and not isinstance(out, bool):
        out = np.asarray(out)
    elif type(out) is not np.ndarray:  # a subclass too: a matrix or mask would leak into grads
        raise OpError(
            f"{arg.__name__}.forward returned {a_or_an(type(out).__name__)}; "
            "forward must return a numpy array"
        )
    if out.dtype.kind not in "fiub":
        what = "complex numbers" if out.dtype.kind == "c" else f"dtype {out.dtype}"
        raise OpError(
            f"{arg.__name__}.forward returned an array of {what}; anet tensors hold real numbers"
        )
    return out


_defaults: dict[type, dict[str, Any]] = {}


def _check_none_options(arg: type[Function], kwargs: dict[str, Any]) -> None:
    """OptionError (a TypeError) for an option given as None whose default in ``arg.forward``
    is not None (``leakyrelu(None)`` would compute with nan)."""
    defaults = _defaults.get(arg)
    if defaults is None:
        try:
            parameters = inspect.signature(arg.forward).parameters.values()
        except (TypeError, ValueError):
            parameters = ()
        defaults = _defaults[arg] = {
            p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty
        }
    for name, value in kwargs.items():
        if value is None and name in defaults and defaults[name] is not None:
            raise OptionError(
                f"{arg.__name__}: option {name}=None is not allowed "
                f"(its default is {defaults[name]!r})"
            )


def register(name: str, fxn: type[Function]) -> None:
    """Attach ``fxn`` to Tensor as method ``name``: ``x.dot(w)`` calls ``Dot.apply(x, Dot, w)``.

    ``fxn`` must be a Function subclass; ``name`` may be a new name or an op's (redefining
    ``relu`` is fine), never one of Tensor's own attributes (``backward``, ``data``, ``shape``…),
    which every tensor relies on.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"register: an op name is an identifier (a str), got {name!r}")
    if not (isinstance(fxn, type) and issubclass(fxn, Function) and fxn is not Function):
        what = f"the class {fxn.__name__}" if isinstance(fxn, type) else f"{fxn!r:.80}"
        raise TypeError(
            f"register({name!r}, ...): an op is a subclass of anet.Function with static forward "
            f"and backward, but {what} was given"
        )
    dunder = name.startswith("__") and name.endswith("__")
    if name in _OWN_ATTRIBUTES or (dunder and not hasattr(Tensor, name)):
        raise ValueError(
            f"register({name!r}, {fxn.__name__}): {name!r} is one of Tensor's own attributes "
            "or special methods; an op registered there would replace it for every tensor: "
            "choose another name"
        )
    setattr(Tensor, name, partialmethod(fxn.apply, fxn))

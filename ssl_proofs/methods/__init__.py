"""Registry of SSL methods.  Each method is one module that calls :func:`register`."""
from __future__ import annotations

from ..errors import UnknownName
from ..theorems import check_params, claim_schema

_REGISTRY = {}


def register(method):
    """Add a :class:`~ssl_proofs.methods.base.Method` instance to the registry.

    Its theorems' parameters are checked against the declared claim schemas
    (:mod:`ssl_proofs.theorems`) of the kinds declared so far.
    """
    for t in method.theorems():
        if claim_schema(t.claim) is not None:
            check_params(t)
    _REGISTRY[method.name] = method
    return method


def get_method(name):
    """Return the registered method called ``name`` (e.g. ``"vicreg"``)."""
    if hasattr(name, "solve") and hasattr(name, "loss"):
        return name
    try:
        return _REGISTRY[str(name).lower()]
    except KeyError:
        raise UnknownName(f"unknown method {name!r}; known methods: {', '.join(sorted(_REGISTRY))}.") from None


def list_methods():
    """Names of every registered method, sorted."""
    return sorted(_REGISTRY)


def list_theorems(method=None):
    """Every theorem of every method (or of one method), in registry order."""
    names = [get_method(method).name] if method is not None else list_methods()
    return [t for n in names for t in _REGISTRY[n].theorems()]


def get_theorem(theorem_id):
    for t in list_theorems():
        if t.id == theorem_id:
            return t
    raise UnknownName(f"unknown theorem id {theorem_id!r}; `ssl-proofs list` shows the ids.")


def _load_methods():
    """Import every method module of this package; each registers itself."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_methods()

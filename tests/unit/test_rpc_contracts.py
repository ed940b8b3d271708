"""Every @rpc entrypoint of every service takes and returns contracts (issue 7).

Parameters: contract models from contracts/ (or None, or a list of them), and plain scalars for ids and tokens.
Results: a contract model (or a union of them), a list of them, or None. Anything else — a dict, Any, an
unannotated parameter — is a payload no one described, and fails here, naming the method.
"""

import importlib
import inspect
import typing
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated
from uuid import UUID

import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import Rpc
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
SCALARS = (str, int, bool, UUID)
# Known exceptions, each with why: fix the cause rather than add to this.
KNOWN = {
    # servicekit/health.py: the gateway's /readyz compares the answer with the service's name.
    "Pingable.ping": "returns the service's name (str)",
}


def service_classes() -> list[type]:
    """The classes defined in every services/*/service.py that have nameko entrypoints."""
    found = []
    for path in sorted(ROOT.glob("services/*/service.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and isinstance(getattr(cls, "name", None), str):
                found.append(cls)
    return found


def rpc_methods(service_cls: type) -> list[str]:
    """The methods nameko finds @rpc entrypoints on, as a container of the service binds them."""
    container = ServiceContainer(service_cls, config={"AMQP_URI": "memory://"})
    return sorted(entrypoint.method_name for entrypoint in container.entrypoints if isinstance(entrypoint, Rpc))


def _bare(hint: object) -> object:
    while typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def _options(hint: object) -> tuple[object, ...]:
    hint = _bare(hint)
    if typing.get_origin(hint) in (typing.Union, UnionType):
        return tuple(_bare(option) for option in typing.get_args(hint))
    return (hint,)


def is_contract(hint: object) -> bool:
    hint = _bare(hint)
    return isinstance(hint, type) and issubclass(hint, BaseModel) and hint.__module__.split(".")[0] == "contracts"


def is_list_of_contracts(hint: object) -> bool:
    hint = _bare(hint)
    return typing.get_origin(hint) is list and all(is_contract(item) for item in typing.get_args(hint))


def parameter_allowed(hint: object) -> bool:
    """A contract, a list of them, or an id or token; each may be optional."""
    options = [option for option in _options(hint) if option is not NoneType]
    return len(options) == 1 and (is_contract(options[0]) or is_list_of_contracts(options[0]) or options[0] in SCALARS)


def result_allowed(hint: object) -> bool:
    """None, a contract (or a union of contracts: one of the views of a thing), or a list of contracts."""
    options = _options(hint)
    return options == (NoneType,) or all(is_contract(option) for option in options) or is_list_of_contracts(hint)


def problems_of(service_cls: type, method_name: str) -> list[str]:
    method = getattr(service_cls, method_name)
    where = f"{service_cls.__name__}.{method_name}"
    if not getattr(method, "parses_contracts", False):
        return [f"{where} is not decorated with servicekit.rpc.rpc, so nothing parses its arguments"]
    hints = typing.get_type_hints(method, include_extras=True)
    problems = []
    for name, parameter in list(inspect.signature(method).parameters.items())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            problems.append(f"{where} takes *{name}: name each argument, as a contract")
        elif name not in hints:
            problems.append(f"{where}: parameter `{name}` has no annotation")
        elif not parameter_allowed(hints[name]):
            problems.append(
                f"{where}: parameter `{name}: {hints[name]}` is neither a contract model from contracts/ (or a list"
                " of them) nor an id or token (str, int, bool, UUID)"
            )
    if "return" not in hints:
        problems.append(f"{where}: no return annotation")
    elif method.__qualname__ in KNOWN:
        pass
    elif not result_allowed(hints["return"]):
        problems.append(
            f"{where} returns `{hints['return']}`: answer a contract model from contracts/, a list of them, or None"
        )
    return problems


SERVICES = service_classes()


def test_every_service_is_found():
    assert {cls.name for cls in SERVICES} >= {"registry", "search"}


@pytest.mark.parametrize("service_cls", SERVICES, ids=lambda cls: cls.__name__)
def test_every_rpc_takes_and_returns_contracts(service_cls):
    methods = rpc_methods(service_cls)
    assert methods, f"{service_cls.__name__} has no @rpc entrypoints"

    problems = [problem for method_name in methods for problem in problems_of(service_cls, method_name)]

    assert not problems, "\n".join(problems)


def test_the_walk_names_the_method_that_takes_or_returns_something_else():
    from servicekit.rpc import rpc

    class Untyped:
        name = "untyped"

        @rpc
        def takes_a_dict(self, payload: dict) -> None: ...

        @rpc
        def returns_a_dict(self, association_id: str) -> dict: ...

        @rpc
        def takes_anything(self, payload, *more) -> None: ...

    problems = "\n".join(problem for method in rpc_methods(Untyped) for problem in problems_of(Untyped, method))

    assert "Untyped.takes_a_dict: parameter `payload: <class 'dict'>`" in problems
    assert "Untyped.returns_a_dict returns `<class 'dict'>`" in problems
    assert "Untyped.takes_anything: parameter `payload` has no annotation" in problems
    assert "Untyped.takes_anything takes *more" in problems

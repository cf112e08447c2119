"""Views only translate HTTP: no module under ``booking/views/`` builds a
SQLAlchemy statement, runs a transaction of its own or reaches the
plumbing under one (the transaction manager's hooks, the session factory),
and the JSON API imports no HTML view module. Each check walks the modules' syntax trees
and names every offence as ``file:line``; each detector is first shown to
catch a planted example, so that a check that finds nothing means something."""

import ast
from pathlib import Path

import pytest

import booking

PACKAGE = Path(booking.__file__).parent
VIEWS = PACKAGE / "views"

#: SQLAlchemy's statement constructors.
STATEMENTS = {"select", "update", "delete", "insert"}
#: Calls that open, end or nest a transaction.
TRANSACTION_CALLS = {"commit", "rollback", "begin", "begin_nested"}
TRANSACTION_FUNCTIONS = {"write_session"}
#: What a service does with the transaction, never a view: hooks on it, the
#: transaction of the request's manager, the factory of other sessions.
HOOK_CALLS = {"addAfterCommitHook", "addBeforeCommitHook"}
SESSION_FACTORY_KEY = "dbsession_factory"
#: What an API module may import from ``booking.views``: the API itself,
#: the input parsers both faces share, and the error views, which answer
#: JSON under ``/api/``.
API_MAY_IMPORT = ("booking.views.api", "booking.views.forms", "booking.views.near_search",
                  "booking.views.errors")


def module_name(path):
    """``booking.views.api.catalog``; ``booking.views.api.__init__`` for a package."""
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def view_modules():
    return sorted(VIEWS.rglob("*.py"))


def parse(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree, module):
    """``(line, absolute module name)`` of each import of ``tree``, the
    source of ``module`` (``….__init__`` for a package; relative imports
    resolved). ``from .x import y`` yields ``….x`` and ``….x.y``, which
    is a module when ``y`` is one."""
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield node.lineno, name
            for alias in node.names:
                yield node.lineno, f"{name}.{alias.name}"


def statement_offences(tree):
    """Lines that import a statement constructor from SQLAlchemy or call one
    (``select(…)``, ``sqlalchemy.update(…)``, ``sa.delete(…)``)."""
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in STATEMENTS:
                    imported.add(alias.asname or alias.name)
                    yield node.lineno, f"imports {alias.name} from {node.module}"
    sqlalchemy_names = {"sqlalchemy"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    sqlalchemy_names.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in imported | STATEMENTS:
            yield node.lineno, f"calls {function.id}()"
        elif (isinstance(function, ast.Attribute) and function.attr in STATEMENTS
              and isinstance(function.value, ast.Name)
              and function.value.id in sqlalchemy_names):
            yield node.lineno, f"calls {function.value.id}.{function.attr}()"


def transaction_offences(tree):
    """Lines that commit, roll back or begin a transaction, or open one of
    their own with ``write_session``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in TRANSACTION_FUNCTIONS:
                    yield node.lineno, f"imports {alias.name}"
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in TRANSACTION_CALLS:
            yield node.lineno, f"calls .{function.attr}()"
        elif isinstance(function, ast.Attribute) and function.attr in TRANSACTION_FUNCTIONS:
            yield node.lineno, f"calls .{function.attr}()"
        elif isinstance(function, ast.Name) and function.id in TRANSACTION_FUNCTIONS:
            yield node.lineno, f"calls {function.id}()"


def plumbing_offences(tree):
    """Lines that hook onto the transaction (``addAfterCommitHook``), take
    the transaction of a manager (``request.tm.get()``, ``tm.get()``) or
    read the session factory (``registry["dbsession_factory"]``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            function = node.func
            if function.attr in HOOK_CALLS:
                yield node.lineno, f"calls .{function.attr}()"
            elif function.attr == "get" and (
                    (isinstance(function.value, ast.Attribute) and function.value.attr == "tm")
                    or (isinstance(function.value, ast.Name) and function.value.id == "tm")):
                yield node.lineno, "calls tm.get()"
        elif (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
              and node.slice.value == SESSION_FACTORY_KEY):
            yield node.lineno, f'reads ["{SESSION_FACTORY_KEY}"]'


def html_import_offences(tree, module):
    """Lines of an API module that import a view module outside the API
    and the shared parsers."""
    for line, name in imported_modules(tree, module):
        if not name.startswith("booking.views"):
            continue
        if name == "booking.views" or name in API_MAY_IMPORT or name.startswith(
                tuple(f"{allowed}." for allowed in API_MAY_IMPORT)):
            continue
        place = PACKAGE.parent / Path(*name.split("."))
        if not place.with_suffix(".py").exists() and not place.is_dir():
            continue  # a name imported from a module, not a module
        yield line, f"imports {name}"


def offences(detector, paths=None, api_only=False):
    found = []
    for path in paths or view_modules():
        module = module_name(path)
        if api_only and not module.startswith("booking.views.api"):
            continue
        tree = parse(path)
        problems = detector(tree, module) if api_only else detector(tree)
        for line, what in problems:
            found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    return found


# -- the detectors catch what they look for -----------------------------------

def planted(code):
    return ast.parse(code)


@pytest.mark.parametrize("code", [
    "from sqlalchemy import select\nq = select(1)\n",
    "import sqlalchemy\nq = sqlalchemy.update(Table)\n",
    "import sqlalchemy as sa\nq = sa.delete(Table)\n",
    "from sqlalchemy.sql import insert as ins\nq = ins(Table)\n",
])
def test_statement_detector_catches_a_planted_statement(code):
    assert list(statement_offences(planted(code)))


def test_statement_detector_ignores_a_dict_update():
    assert list(statement_offences(planted("page = {}\npage.update(results=1)\n"))) == []


@pytest.mark.parametrize("code", [
    "request.dbsession.commit()\n",
    "dbsession.rollback()\n",
    "session.begin_nested()\n",
    "connection.begin()\n",
    "from ..models import write_session\nwith write_session(factory) as s:\n    pass\n",
])
def test_transaction_detector_catches_a_planted_transaction(code):
    assert list(transaction_offences(planted(code)))


def test_transaction_detector_allows_dooming_the_request():
    assert list(transaction_offences(planted("request.tm.doom()\n"))) == []


@pytest.mark.parametrize("code", [
    "request.tm.get().addAfterCommitHook(hook)\n",
    "transaction.get().addAfterCommitHook(hook, args=(1,))\n",
    "txn = self.request.tm.get()\n",
    "with request.tm as tm:\n    tm.get()\n",
    "factory = request.registry[\"dbsession_factory\"]\n",
    "factory = self.request.registry['dbsession_factory']\n",
])
def test_plumbing_detector_catches_a_planted_hook_or_session_factory(code):
    assert list(plumbing_offences(planted(code)))


def test_plumbing_detector_ignores_dicts_and_dooming():
    code = ("request.GET.get('page')\nrequest.tm.doom()\nsettings['booking.maps']\n"
            "request.registry.settings.get('dbsession_factory')\n")
    assert list(plumbing_offences(planted(code))) == []


@pytest.mark.parametrize("code", [
    "from ..discovery import where\n",
    "from .. import discovery\n",
    "from booking.views.public import home\n",
    "import booking.views.manage.bookings\n",
])
def test_api_import_detector_catches_a_planted_html_import(code):
    assert list(html_import_offences(planted(code), "booking.views.api.catalog"))


def test_api_import_detector_resolves_imports_of_the_api_package_itself():
    tree = planted("from .serialize import tenant_json\nfrom .. import public\n")
    assert [what for _line, what in html_import_offences(tree, "booking.views.api.__init__")] == [
        "imports booking.views.public"]


@pytest.mark.parametrize("code", [
    "from ..forms import parse\n",
    "from .serialize import tenant_json\n",
    "from ..near_search import where\n",
    "from ...services.discovery import DiscoveryService\n",
])
def test_api_import_detector_allows_the_api_and_the_shared_parsers(code):
    assert list(html_import_offences(planted(code), "booking.views.api.catalog")) == []


# -- the views -------------------------------------------------------------------

def test_views_build_no_sqlalchemy_statement():
    assert offences(statement_offences) == []


def test_views_run_no_transaction_of_their_own():
    assert offences(transaction_offences) == []


def test_views_reach_no_transaction_hook_nor_session_factory():
    assert offences(plumbing_offences) == []


def test_api_imports_no_html_view_module():
    assert offences(html_import_offences, api_only=True) == []

"""The documentation kept honest: every setting, command, option, route and error is documented.

Each test reads the code (the settings dataclasses, the typer app, the
routers, the error hierarchy) and the Markdown in README.md and docs/, and
fails naming what is missing, what is documented but does not exist, or
which link is broken. Nothing here starts a server or opens a database.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

import policenet.hub
import policenet.node
from policenet import errors
from policenet.cli.main import app as cli_app
from policenet.settings import HubSettings, NodeSettings, dump

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_MD = DOCS / "cli.md"
API_MD = DOCS / "api.md"
SRC = ROOT / "src" / "policenet"
APP_MODULES = (SRC / "hub" / "app.py", SRC / "node" / "app.py")
MARKDOWN_FILES = (README, *sorted(DOCS.glob("*.md")))

SETTINGS_FILES: dict[type[Any], str] = {HubSettings: "hub.toml", NodeSettings: "node.toml"}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- reading Markdown -------------------------------------------------------------------


def read(path: Path) -> str:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing", pytrace=False)
    return path.read_text(encoding="utf-8")


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(index, line) of every line outside fenced code blocks."""
    fenced = False
    for index, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield index, line


def headings(text: str, level: int) -> list[str]:
    """The titles of the headings of exactly ``level`` (``###`` is 3), outside code blocks."""
    mark = "#" * level + " "
    return [line[len(mark) :].strip() for _, line in prose_lines(text) if line.startswith(mark)]


def section(text: str, title: str, level: int) -> str:
    """The text under the heading ``title`` of ``level``, up to the next heading of that level
    or higher; fails the test when the heading is absent."""
    lines = text.splitlines()
    start: int | None = None
    for index, line in prose_lines(text):
        match = re.match(r"(#+) (.*)", line)
        if match is None:
            continue
        depth, name = len(match.group(1)), match.group(2).strip()
        if start is None:
            if depth == level and name == title:
                start = index + 1
        elif depth <= level:
            return "\n".join(lines[start:index])
    if start is None:
        pytest.fail(f"no heading {'#' * level} {title}", pytrace=False)
    return "\n".join(lines[start:])


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text``, header and separator rows left out."""
    rows = []
    for _, line in prose_lines(text):
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            continue
        rows.append(cells)
    return rows


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def backticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", text))


# --- settings ----------------------------------------------------------------------------


def setting_fields(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.name != "directory"]


def configuration_table() -> dict[tuple[str, str], dict[str, str]]:
    """README's configuration table: (file, setting name) -> cells by column name."""
    rows = table_rows(section(read(README), "Configuration", 2))
    assert rows, "README.md's Configuration section has no table"
    header = rows[0]
    for column in ("file", "setting", "default", "meaning"):
        assert column in header, f"the configuration table has no {column!r} column: {header}"
    table: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows[1:]:
        cells = dict(zip(header, row, strict=False))
        names = re.findall(r"`([^`]+)`", cells.get("setting", ""))
        assert len(names) == 1, f"a configuration row names {len(names)} settings: {row}"
        key = (cells["file"].strip("`"), names[0])
        assert key not in table, f"{key[1]} of {key[0]} is in the configuration table twice"
        table[key] = cells
    return table


def default_texts(cls: type[Any]) -> dict[str, str]:
    """Each setting's default as the settings file writes it (through settings.dump)."""
    required = {}
    for f in setting_fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            assert f.type in ("str", str), f"{cls.__name__}.{f.name}: give the test a placeholder"
            required[f.name] = "placeholder"
    written = dump(cls(directory=Path(), **required))
    values = dict(line.split(" = ", 1) for line in written.splitlines() if not line.startswith("#"))
    return {name: value for name, value in values.items() if name not in required}


@pytest.mark.parametrize("cls", [HubSettings, NodeSettings], ids=lambda c: c.__name__)
def test_every_setting_is_in_the_readme_configuration_table(cls: type[Any]) -> None:
    table = configuration_table()
    file = SETTINGS_FILES[cls]
    missing = [f.name for f in setting_fields(cls) if (file, f.name) not in table]
    assert not missing, f"README.md's configuration table lacks these {file} settings: {missing}"
    empty = [f.name for f in setting_fields(cls) if not table[(file, f.name)].get("meaning")]
    assert not empty, f"these {file} settings have no meaning in README.md: {empty}"


def test_the_configuration_table_names_only_real_settings() -> None:
    real = {(SETTINGS_FILES[cls], f.name) for cls in SETTINGS_FILES for f in setting_fields(cls)}
    invented = sorted(set(configuration_table()) - real)
    assert not invented, f"README.md documents settings that do not exist: {invented}"


@pytest.mark.parametrize("cls", [HubSettings, NodeSettings], ids=lambda c: c.__name__)
def test_documented_defaults_are_the_code_defaults(cls: type[Any]) -> None:
    table = configuration_table()
    file = SETTINGS_FILES[cls]
    defaults = default_texts(cls)
    wrong = []
    for f in setting_fields(cls):
        cell = table[(file, f.name)]["default"]
        if f.name in defaults:
            if defaults[f.name] not in backticked(cell):
                wrong.append(f"{f.name}: README says {cell!r}, the code `{defaults[f.name]}`")
        elif not cell.startswith("required"):
            wrong.append(f"{f.name}: has no default, README says {cell!r}")
    assert not wrong, f"{file} defaults in README.md differ from the code: {wrong}"


# --- commands ----------------------------------------------------------------------------


def leaf_commands() -> dict[str, Any]:
    """'policenet node user add' -> its command object, for every command that runs something."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}")
        else:
            found[path] = command

    walk(typer.main.get_command(cli_app), "policenet")
    return found


COMMANDS = sorted(leaf_commands())


def test_the_cli_has_commands_to_document() -> None:
    # Guards the walk itself: if typer changed shape, every test below would pass vacuously.
    assert {"policenet hub init", "policenet node user add", "policenet demo"} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_has_a_heading_in_cli_md(path: str) -> None:
    assert path in headings(read(CLI_MD), 3), f"docs/cli.md has no heading '### {path}'"


@pytest.mark.parametrize("path", COMMANDS)
def test_every_option_and_argument_is_documented_under_its_command(path: str) -> None:
    documented = backticked(section(read(CLI_MD), path, 3))
    missing = []
    for param in leaf_commands()[path].params:
        if type(param).__name__.endswith("Argument"):
            names = [str(param.name).upper()]
        else:
            names = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
        missing += [name for name in names if name not in documented]
    assert not missing, f"'### {path}' in docs/cli.md does not mention {missing}"


def test_cli_md_documents_only_real_commands() -> None:
    documented = [h for h in headings(read(CLI_MD), 3) if h.startswith("policenet")]
    invented = sorted(set(documented) - set(COMMANDS))
    assert not invented, f"docs/cli.md documents commands that do not exist: {invented}"


# --- routes ------------------------------------------------------------------------------


def router_routes(router: APIRouter) -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


def app_level_routes() -> list[tuple[str, str]]:
    """Routes the composition roots add outside the routers: decorators and the OpenAPI URL."""
    found = []
    for module in APP_MODULES:
        text = read(module)
        for method, path in re.findall(r'@app\.(get|post|put|patch|delete)\(\s*"([^"]+)"', text):
            found.append((method.upper(), path))
        found += [("GET", path) for path in re.findall(r'openapi_url="([^"]+)"', text)]
    return found


def all_routers() -> list[APIRouter]:
    """Every ``router`` defined by a module of the hub and node packages (new ones included)."""
    found = []
    for package in (policenet.hub, policenet.node):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            router = getattr(importlib.import_module(info.name), "router", None)
            if isinstance(router, APIRouter):
                found.append(router)
    return found


ROUTERS = all_routers()
ROUTES = sorted({*(r for router in ROUTERS for r in router_routes(router)), *app_level_routes()})


def test_the_apps_have_routes_to_document() -> None:
    # Guards the collection: an empty list would let every route test pass.
    assert ("GET", "/v1/members") in ROUTES
    assert ("POST", "/api/v1/login") in ROUTES
    assert ("GET", "/health") in ROUTES
    assert ("POST", "/v1/documents/check") in ROUTES


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=lambda x: str(x))
def test_every_route_has_a_heading_in_api_md(method: str, path: str) -> None:
    assert f"{method} {path}" in headings(read(API_MD), 3), (
        f"docs/api.md has no heading '### {method} {path}'"
    )


def test_api_md_documents_only_real_routes() -> None:
    documented = [
        h for h in headings(read(API_MD), 3) if h.split(" ", 1)[0] in HTTP_METHODS and " " in h
    ]
    invented = sorted(set(documented) - {f"{m} {p}" for m, p in ROUTES})
    assert not invented, f"docs/api.md documents routes that do not exist: {invented}"


def route_inputs(router: APIRouter) -> list[tuple[str, str, list[str]]]:
    """(method, path, names of its query parameters and JSON body fields), from OpenAPI."""
    app = FastAPI()
    app.include_router(router)
    schema = app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
                names += list(components[ref].get("properties", {}))
            found.append((method.upper(), path, names))
    return found


INPUTS = [item for router in ROUTERS for item in route_inputs(router)]


@pytest.mark.parametrize(("method", "path", "names"), INPUTS, ids=lambda x: str(x))
def test_query_parameters_and_body_fields_are_documented(
    method: str, path: str, names: list[str]
) -> None:
    documented = backticked(section(read(API_MD), f"{method} {path}", 3))
    missing = [name for name in names if name not in documented]
    assert not missing, f"'### {method} {path}' in docs/api.md does not mention {missing}"


def error_classes() -> list[type[errors.PolicenetError]]:
    found: list[type[errors.PolicenetError]] = []
    todo: list[type[errors.PolicenetError]] = [errors.PolicenetError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_code_is_in_the_api_error_table() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(section(read(API_MD), "Errors", 2))}
    wrong = []
    for cls in error_classes():
        row = rows.get(cls.code)
        if row is None:
            wrong.append(f"{cls.code} ({cls.__name__}) is missing")
        elif str(cls.status_code) not in row[1]:
            wrong.append(f"{cls.code} is {cls.status_code} in the code, {row[1]!r} in docs/api.md")
    assert not wrong, f"docs/api.md's error table: {wrong}"


# --- README and links --------------------------------------------------------------------


def test_readme_starts_with_make_demo_and_make_test() -> None:
    lines = read(README).splitlines()
    fence = next((i for i, line in enumerate(lines) if line.startswith("```")), None)
    assert fence is not None, "README.md has no code block"
    before = [line for line in lines[:fence] if line.strip()]
    assert len(before) <= 1 and all(line.startswith("# ") for line in before), (
        f"README.md must start with the make commands, not with {before}"
    )
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    commands = [line.split("#", 1)[0].strip() for line in lines[fence + 1 : end] if line.strip()]
    assert commands[:2] == ["make demo", "make test"], (
        f"README.md's first code block starts with {commands[:2]}, not make demo and make test"
    )


def links(path: Path) -> list[str]:
    text = "\n".join(line for _, line in prose_lines(read(path)))
    text = re.sub(r"`[^`]*`", "", text)  # code spans are not links
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: p.name)
def test_relative_links_point_to_files_and_headings_in_the_repository(path: Path) -> None:
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto: and the like are not checked here
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.is_relative_to(ROOT):
            broken.append(f"{target} leaves the repository")
        elif not linked.exists():
            broken.append(f"{target} does not exist")
        elif anchor and linked.suffix == ".md":
            text = linked.read_text(encoding="utf-8")
            titles = [h for level in range(1, 7) for h in headings(text, level)]
            if anchor not in {slug(t) for t in titles}:
                broken.append(f"{target}: {linked.name} has no heading #{anchor}")
    assert not broken, f"broken links in {path.relative_to(ROOT)}: {broken}"


def test_the_link_checker_sees_links() -> None:
    # Guards the link regex: the README links to every page in docs/.
    linked = {target.partition("#")[0] for target in links(README)}
    pages = {f"docs/{p.name}" for p in DOCS.glob("*.md")}
    assert pages and pages <= linked, f"README.md does not link to {sorted(pages - linked)}"

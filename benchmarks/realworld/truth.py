"""Runtime truth for the real-world oracle: which ORM models a project really defines.

Run by the python of the project's own virtualenv (never by the linter's), in a subprocess:

    python truth.py CONFIG.json OUT.json

CONFIG holds the project's packages, its ORM kind (`sqlalchemy` or `django`), Django settings
and module patterns to skip. This script imports every module of the packages it can (counting
the failures), then reads the mapped classes from SQLAlchemy's registries and Django's app
registry, with each date/time or timestamp-named column's real defaults and update hooks, and
every module attribute bound to a model (re-exports). It depends on nothing but the standard
library and what the project installed; it is the one place where project code is executed,
and it lives in benchmarks/ only.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import re
import signal
import sys
import traceback
from pathlib import Path

IMPORT_TIMEOUT = 20


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _configure_django(config: dict) -> None:
    import django
    from django.conf import settings

    dj = config.get("django") or {}
    apps = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.sites",
        "django.contrib.staticfiles",
    ]
    for app in dj.get("installed_apps", []):
        if app not in apps:
            apps.append(app)
    values = {
        "INSTALLED_APPS": apps,
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "SECRET_KEY": "oracle",
        "USE_TZ": True,
        "SITE_ID": 1,
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "ROOT_URLCONF": __name__,
        "MIDDLEWARE": [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": []},
            }
        ],
        "STATIC_URL": "/static/",
    }
    values["MIDDLEWARE"] += dj.get("middleware", [])
    values.update(dj.get("settings", {}))
    settings.configure(**values)
    django.setup()


urlpatterns: list = []


def _import_all(packages: list[str], skip: list[str]) -> dict:
    skip_re = [re.compile(p) for p in skip]
    imported, failed, skipped = [], {}, []
    seen = set()

    def try_import(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        if any(p.search(name) for p in skip_re):
            skipped.append(name)
            return
        signal.alarm(IMPORT_TIMEOUT)
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                importlib.import_module(name)
            imported.append(name)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            signal.alarm(0)

    def walk(package: str) -> None:
        mod = sys.modules.get(package)
        for entry in getattr(mod, "__path__", None) or []:
            for info in sorted(pkgutil.iter_modules([entry]), key=lambda i: i.name):
                name = f"{package}.{info.name}"
                if info.name == "__main__":
                    skipped.append(name)
                    continue
                try_import(name)
                if info.ispkg and name in sys.modules:
                    walk(name)

    for top in packages:
        try_import(top)
        walk(top)
    return {"imported": sorted(imported), "failed": failed, "skipped": sorted(skipped)}


def _in_packages(module: str, packages: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _source_file(cls, roots: list[Path]) -> str | None:
    try:
        path = Path(inspect.getsourcefile(cls) or "").resolve()
    except (TypeError, OSError):
        return None
    for root in roots:
        with contextlib.suppress(ValueError):
            return path.relative_to(root).as_posix()
    return None


def _line(cls) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (TypeError, OSError):
        return None


def _describe(value) -> str | None:
    if value is None:
        return None
    text = re.sub(r" at 0x[0-9a-f]+", "", repr(value))
    return text if len(text) <= 160 else text[:157] + "..."


def _sqlalchemy_models(packages, roots, fields):
    try:
        from sqlalchemy.orm import mapperlib
    except ImportError:
        return []
    registries = list(getattr(mapperlib, "_mapper_registries", {}))
    models = []
    for reg in registries:
        for mapper in list(getattr(reg, "mappers", ())):
            cls = mapper.class_
            if not _in_packages(cls.__module__, packages):
                continue
            columns = []
            for key, col in mapper.columns.items():
                type_name = type(getattr(col, "type", None)).__name__
                try:
                    python_type = col.type.python_type.__name__
                except (NotImplementedError, AttributeError):
                    python_type = None
                if key not in fields and python_type not in ("datetime", "date"):
                    continue
                default = getattr(col, "default", None)
                server_default = getattr(col, "server_default", None)
                onupdate = getattr(col, "onupdate", None)
                server_onupdate = getattr(col, "server_onupdate", None)
                stamps = server_default is not None or (
                    default is not None
                    and (
                        getattr(default, "is_callable", False)
                        or getattr(default, "is_clause_element", False)
                    )
                )
                columns.append(
                    {
                        "name": key,
                        "type": type_name,
                        "default": _describe(getattr(default, "arg", default)),
                        "server_default": _describe(getattr(server_default, "arg", server_default)),
                        "onupdate": _describe(getattr(onupdate, "arg", onupdate)),
                        "server_onupdate": _describe(server_onupdate),
                        "insert_default": bool(stamps),
                        "update_hook": onupdate is not None or server_onupdate is not None,
                    }
                )
            hooks = []
            with contextlib.suppress(Exception):
                hooks = [*mapper.dispatch.before_update, *mapper.dispatch.before_insert]
            _apply_hooks(columns, hooks)
            models.append(_model_entry(cls, roots, columns, "sqlalchemy", len(hooks)))
    return models


def _django_models(packages, roots, fields):
    try:
        from django.apps import apps
        from django.db import models as djm
    except ImportError:
        return []
    out = []
    for model in apps.get_models():
        if not _in_packages(model.__module__, packages):
            continue
        if model._meta.swapped:
            continue
        columns = []
        for field in model._meta.concrete_fields:
            is_dt = isinstance(field, djm.DateField)
            if field.name not in fields and not is_dt:
                continue
            auto_now = bool(getattr(field, "auto_now", False))
            auto_now_add = bool(getattr(field, "auto_now_add", False))
            has_default = field.has_default()
            default = field.default if has_default else None
            db_default = getattr(field, "db_default", None)
            has_db_default = db_default is not None and type(db_default).__name__ != "NOT_PROVIDED"
            if has_db_default and db_default is getattr(djm.fields, "NOT_PROVIDED", object()):
                has_db_default = False
            columns.append(
                {
                    "name": field.name,
                    "type": type(field).__name__,
                    "default": _describe(default),
                    "server_default": _describe(db_default) if has_db_default else None,
                    "auto_now": auto_now,
                    "auto_now_add": auto_now_add,
                    "insert_default": auto_now
                    or auto_now_add
                    or (has_default and callable(default))
                    or has_db_default,
                    "update_hook": auto_now,
                }
            )
        saves = [
            vars(c)["save"]
            for c in model.__mro__
            if "save" in vars(c) and _in_packages(c.__module__, packages)
        ]
        _apply_hooks(columns, saves)
        out.append(_model_entry(model, roots, columns, "django", len(saves)))
    return out


def _unwrapped(functions, depth: int = 3) -> list:
    """The user's functions behind listener wrappers (SQLAlchemy keeps the listener in the
    closure of its `wrap`), `functools.wraps` chains included."""
    out = []
    for fn in functions:
        fn = inspect.unwrap(fn) if callable(fn) else fn
        module = getattr(fn, "__module__", "") or ""
        if depth and module.startswith("sqlalchemy"):
            inner = [
                c.cell_contents
                for c in (getattr(fn, "__closure__", None) or ())
                if callable(getattr(c, "cell_contents", None))
            ]
            out.extend(_unwrapped(inner, depth - 1))
        else:
            out.append(fn)
    return out


def _apply_hooks(columns: list[dict], functions) -> None:
    """A `save()` override or a before_insert/before_update listener whose source assigns
    `<x>.<field> =` (or `setattr(<x>, "<field>", ...)`) stamps that field: it counts as the
    insert default and the update hook (`hook_sets` names the hook). Reading the hook's source
    is the one static step of the runtime truth; which hooks exist is runtime truth."""
    sources = []
    for fn in _unwrapped(functions):
        with contextlib.suppress(Exception):
            sources.append((fn.__qualname__, inspect.getsource(fn)))
    for col in columns:
        pattern = re.compile(
            rf"\.{re.escape(col['name'])}\s*=(?!=)|setattr\([^,]+,\s*[\"']{re.escape(col['name'])}[\"']"
        )
        for name, text in sources:
            if pattern.search(text):
                col["hook_sets"] = name
                col["insert_default"] = True
                col["update_hook"] = True
                break


def _model_entry(cls, roots, columns, kind, hooks):
    mro = [c.__module__ + "." + c.__qualname__ for c in cls.__mro__]
    module = sys.modules.get(cls.__module__)
    importable = "<locals>" not in cls.__qualname__ and module is not None
    if importable:
        obj = module
        for part in cls.__qualname__.split("."):
            obj = getattr(obj, part, None)
        importable = obj is cls
    return {
        "id": cls.__module__ + "." + cls.__qualname__,
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "file": _source_file(cls, roots),
        "line": _line(cls),
        "kind": kind,
        "importable": importable,
        "mro": mro,
        "hooks": hooks,
        "columns": columns,
    }


def _bindings(models, packages) -> dict:
    """Every `module.attr` of the packages bound to a model class (definitions and re-exports)."""
    wanted = {m["id"] for m in models}
    out = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not _in_packages(name, packages):
            continue
        with contextlib.suppress(Exception):
            for attr, value in list(vars(mod).items()):
                if isinstance(value, type):
                    mid = f"{value.__module__}.{value.__qualname__}"
                    if mid in wanted:
                        out[f"{name}.{attr}"] = mid
    return out


def _type_of(annotation, wanted: set[str]) -> str | None:
    """The model a return annotation names: `Model` or `type[Model]`."""
    import typing

    if typing.get_origin(annotation) is type:
        args = typing.get_args(annotation)
        annotation = args[0] if args else None
    if isinstance(annotation, type):
        mid = f"{annotation.__module__}.{annotation.__qualname__}"
        return mid if mid in wanted else None
    return None


def _attr_bindings(models, packages) -> tuple[dict, dict]:
    """Class attributes that give a model: `Class.attr` holding a model class, or a property
    whose return annotation is `type[Model]` (Prefect's `db.Flow`). Returns
    {class id.attr: model id} and {module.attr: class id} for the classes that have any."""
    import typing

    wanted = {m["id"] for m in models}
    attrs: dict[str, str] = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not _in_packages(name, packages):
            continue
        with contextlib.suppress(Exception):
            for value in list(vars(mod).values()):
                if not isinstance(value, type) or value.__module__ != name:
                    continue
                cid = f"{value.__module__}.{value.__qualname__}"
                for attr, member in list(vars(value).items()):
                    target = None
                    if isinstance(member, property) and member.fget is not None:
                        with contextlib.suppress(Exception):
                            hints = typing.get_type_hints(member.fget)
                            target = _type_of(hints.get("return"), wanted)
                    elif isinstance(member, type):
                        target = _type_of(member, wanted)
                    if target:
                        attrs[f"{cid}.{attr}"] = target
    owners = {key.rsplit(".", 1)[0] for key in attrs}
    classes: dict[str, str] = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not _in_packages(name, packages):
            continue
        with contextlib.suppress(Exception):
            for attr, value in list(vars(mod).items()):
                if isinstance(value, type):
                    cid = f"{value.__module__}.{value.__qualname__}"
                    if cid in owners:
                        classes[f"{name}.{attr}"] = cid
    return attrs, classes


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    out_path = Path(sys.argv[2])
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    signal.signal(signal.SIGALRM, _alarm)
    packages = config["packages"]
    fields = set(config.get("fields", ["created_at", "updated_at"]))
    setup_error = None
    if config["kind"] == "django":
        try:
            _configure_django(config)
        except Exception:
            setup_error = traceback.format_exc(limit=3)
    imports = _import_all(packages, config.get("skip_modules", []))
    roots = []
    for top in packages:
        for entry in getattr(sys.modules.get(top), "__path__", []):
            roots.append(Path(entry).resolve().parent)
    models = _sqlalchemy_models(packages, roots, fields) + _django_models(packages, roots, fields)
    models.sort(key=lambda m: m["id"])
    attrs, classes = _attr_bindings(models, packages)
    result = {
        "python": sys.version.split()[0],
        "setup_error": setup_error,
        "imports": {
            "imported": len(imports["imported"]),
            "failed": imports["failed"],
            "skipped": imports["skipped"],
        },
        "models": models,
        "package_dirs": {
            top: [str(Path(e).resolve()) for e in getattr(sys.modules.get(top), "__path__", [])]
            for top in packages
        },
        "bindings": _bindings(models, packages),
        "attr_bindings": attrs,
        "class_bindings": classes,
    }
    out_path.write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

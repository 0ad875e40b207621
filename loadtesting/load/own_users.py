"""Your own Locust users: the User classes of a locustfile, found as `locust -f PATH` finds them.

Every non-abstract User subclass the file defines or imports (Locust's own test), in the order the
module holds them, or only the classes named with --user-classes. A LoadTestShape in the file is
not used: --users, --spawn-rate and --run-time set the load.

The file is imported under a private module name, so a locustfile called `orders.py` cannot take
the place of the shop's `orders` app in sys.modules; its directory is on sys.path while it is
imported, as Locust does, so that it can import the modules beside it.

Imported in the load only, when it is about to run (the process is patched by gevent by then).
"""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from loadtesting.exit_codes import CannotRun
from loadtesting.load.locust_adapter import is_shape_class, is_user_class
from loadtesting.scenarios import Locustfile

MODULE_PREFIX = "loadtest_locustfile_"


@dataclass
class OwnUsers:
    classes: list[type]
    ignored_shapes: list[str]  # LoadTestShape classes in the file: the options set the load


def load(locustfile: Locustfile) -> OwnUsers:
    """The classes to run; CannotRun with one line when the file cannot give any."""
    module = _import(locustfile.path)
    found = {name: value for name, value in vars(module).items() if is_user_class(value)}
    if not found:
        raise CannotRun(
            f"--locustfile {locustfile.path} has no User classes "
            "(subclasses of locust's HttpUser, FastHttpUser or User that are not abstract)."
        )
    unknown = [name for name in locustfile.class_names if name not in found]
    if unknown:
        raise CannotRun(
            f"--user-classes: {', '.join(unknown)} not found in {locustfile.path} "
            f"(its User classes: {', '.join(found)})."
        )
    names = locustfile.class_names or tuple(found)
    shapes = [name for name, value in vars(module).items() if is_shape_class(value)]
    return OwnUsers([found[name] for name in names], shapes)


def _import(path: Path) -> ModuleType:
    name = MODULE_PREFIX + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CannotRun(f"--locustfile {path} is not a Python file Locust could import.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up while it executes
    directory = str(path.parent)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise CannotRun(
            f"--locustfile {path} could not be imported: {type(exc).__name__}: {_one_line(exc)}"
        ) from None
    finally:
        sys.path.remove(directory)
    return module


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"

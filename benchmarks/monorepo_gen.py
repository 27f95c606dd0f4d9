"""Generate synthetic Poetry monorepos of any size for benchmarks and tests."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_package_source", "generate_monorepo"]

_ROOT_PYPROJECT = """[tool.poetflow]
packages = ["packages/*"]
"""


def _pyproject(name: str, deps: list[str], style: str, external: tuple[str, ...] = ()) -> str:
    module = name.replace("-", "_")
    if style == "pep621":
        requirements = ", ".join(
            [*(f'"{dep}>=0.1"' for dep in deps), *(f'"{e}"' for e in external)]
        )
        paths = "".join(f'{dep} = {{ path = "../{dep}", develop = true }}\n' for dep in deps)
        return f"""[project]
name = "{name}"
version = "0.1.0"
description = "Synthetic package {name}."
requires-python = ">=3.10"
dependencies = [{requirements}]

[tool.poetry]
packages = [{{ include = "{module}", from = "src" }}]

[tool.poetry.dependencies]
{paths}
[tool.poetry.group.test.dependencies]
pytest = ">=7"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
    paths = "".join(f'{dep} = {{ path = "../{dep}", develop = true }}\n' for dep in deps)
    paths += "".join(_poetry_requirement(requirement) for requirement in external)
    return f"""[tool.poetry]
name = "{name}"
version = "0.1.0"
description = "Synthetic package {name}."
authors = ["Bench <bench@poetflow.invalid>"]
packages = [{{ include = "{module}", from = "src" }}]

[tool.poetry.dependencies]
python = ">=3.10"
{paths}
[tool.poetry.group.test.dependencies]
pytest = ">=7"

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""


def _dependencies(i: int, fan_in: int, width: int) -> list[int]:
    if width == 1:  # a chain: i needs i - 1, and some of the fan_in before it
        return [j for j in range(max(0, i - fan_in), i) if (i + j) % 2 == 0 or j == i - 1]
    # Layers of ``width``: i needs the package above it and others of the layer before.
    layer = i // width
    above = range((layer - 1) * width, layer * width) if layer else range(0)
    return [j for j in above if (i + j) % 2 == 0 or j == i - width][:fan_in]


def _module(name: str, number: int) -> str:
    """A module of ordinary code: a dataclass, a few functions, ~40 lines."""
    return f'''"""Part {number} of {name}."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Record{number}:
    """One record of part {number}."""

    key: str
    values: list[int] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.values)

    def scaled(self, factor: int) -> Record{number}:
        return Record{number}(self.key, [value * factor for value in self.values])


def parse_{number}(text: str) -> list[Record{number}]:
    """Lines of ``key: 1, 2, 3`` into records."""
    records = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, rest = line.partition(":")
        values = [int(item) for item in rest.split(",") if item.strip()]
        records.append(Record{number}(key.strip(), values))
    return records


def summary_{number}(records: list[Record{number}]) -> dict[str, int]:
    return {{record.key: record.total() for record in records}}
'''


def _poetry_requirement(requirement: str) -> str:
    """``name>=1`` as a [tool.poetry.dependencies] line."""
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    return f'{parsed.name} = "{parsed.specifier or "*"}"\n'


def generate_monorepo(
    root: Path,
    count: int,
    *,
    fan_in: int = 3,
    width: int = 1,
    modules: int = 0,
    dependencies: tuple[str, ...] = (),
    spread: int = 1,
) -> list[str]:
    """Write ``count`` packages under ``root/packages``, alternating metadata styles.

    With ``width`` 1 package i depends on up to ``fan_in`` earlier ones (a chain: nothing
    can build side by side); otherwise packages come in layers of ``width`` and each
    depends on up to ``fan_in`` packages of the layer before. ``modules`` adds that many
    modules of ordinary code to each package (0: only ``__init__.py``). Each package also
    depends on ``spread`` of the third-party ``dependencies`` (PEP 508 requirements, taken
    in turn). Returns the names in order.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(_ROOT_PYPROJECT, encoding="utf-8")
    names = [f"pkg-{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        deps = [names[j] for j in _dependencies(i, fan_in, width)]
        directory = root / "packages" / name
        module = directory / "src" / name.replace("-", "_")
        module.mkdir(parents=True, exist_ok=True)
        imports = "".join(f"import {dep.replace('-', '_')}  # noqa: F401\n" for dep in deps)
        (module / "__init__.py").write_text(
            f'"""Synthetic package {name}."""\n{imports}\nVALUE = {i}\n', encoding="utf-8"
        )
        for number in range(modules):
            (module / f"part_{number:02d}.py").write_text(_module(name, number), encoding="utf-8")
        tests = directory / "tests"
        tests.mkdir(exist_ok=True)
        (tests / f"test_{module.name}.py").write_text(
            f"from {module.name} import VALUE\n\n\n"
            f"def test_value() -> None:\n    assert VALUE == {i}\n",
            encoding="utf-8",
        )
        style = "pep621" if i % 2 == 0 else "poetry"
        external = tuple(
            dependencies[(i + k) % len(dependencies)] for k in range(spread) if dependencies
        )
        text = _pyproject(name, deps, style, tuple(dict.fromkeys(external)))
        (directory / "pyproject.toml").write_text(text, encoding="utf-8")
    return names


def add_package_source(
    root: Path, url: str = "https://pypi.org/simple/", name: str = "pypi-simple"
) -> None:
    """Declare ``url`` as every package's primary Poetry source, so that `poetry lock`
    works where only a simple index (no PyPI JSON API) is reachable."""
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        text = pyproject.read_text(encoding="utf-8")
        if f'url = "{url}"' in text:
            continue
        text += f'\n[[tool.poetry.source]]\nname = "{name}"\nurl = "{url}"\npriority = "primary"\n'
        pyproject.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--width", type=int, default=1)
    parser.add_argument("--modules", type=int, default=0)
    args = parser.parse_args()
    names = generate_monorepo(args.root, args.count, width=args.width, modules=args.modules)
    print("\n".join(names))

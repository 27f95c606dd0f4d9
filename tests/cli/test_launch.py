"""The console script's guess at a parallel build, made before the command line loads."""

from __future__ import annotations

import pytest

from poetflow.build import template
from poetflow.cli.launch import parallel_build_jobs


@pytest.mark.parametrize(
    ("args", "environ", "jobs"),
    [
        (["build"], {}, 4),  # the cores this process may use
        (["build", "--all", "--jobs", "3"], {}, 3),
        (["--root", "repo", "--log-level", "debug", "build", "-j2"], {}, 2),
        (["build", "--jobs=5"], {}, 5),
        (["build"], {"POETFLOW_JOBS": "3"}, 3),
        (["build", "--jobs", "1"], {}, None),  # one job builds here: no workers
        (["build", "--dry-run"], {}, None),
        (["--dry-run", "build"], {}, None),
        (["build"], {"POETFLOW_DRY_RUN": "1"}, None),
        (["build"], {"POETFLOW_DRY_RUN": "false"}, 4),
        (["build", "--builder", "poetry"], {}, None),  # `poetry build` subprocesses
        (["build", "--help"], {}, None),
        (["build", "--jobs", "many"], {}, None),  # the command says what is wrong
        (["test", "--jobs", "2"], {}, None),
        (["--root", "build", "test"], {}, None),  # "build" is the root there
        ([], {}, None),
    ],
)
def test_only_a_parallel_poetry_core_build_forks_a_template_early(
    monkeypatch: pytest.MonkeyPatch, args: list[str], environ: dict[str, str], jobs: int | None
) -> None:
    monkeypatch.setattr(template, "available_cores", lambda: 4)
    assert parallel_build_jobs(args, environ) == jobs

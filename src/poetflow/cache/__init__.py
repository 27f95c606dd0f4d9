"""The task cache: results of tests and builds, found again by the content of their inputs.

A task (one package's tests, one package's build) has a key: a sha256 of everything that
can change its result (see :mod:`poetflow.cache.keys`). Its result is stored under that
key as a set of outputs (the result record, JUnit files, wheels), locally under
``.poetflow/cache/`` and, when configured, in a remote cache speaking Bazel's HTTP cache
protocol, so that another job or machine finds it. Only successes are stored.

:class:`TaskCache` is what the engines use: :meth:`~TaskCache.lookup` before a task
(local first, then remote; a remote hit is kept locally) and :meth:`~TaskCache.store`
after it. Nothing here fails a run: a remote that misbehaves is given up with a warning.
"""

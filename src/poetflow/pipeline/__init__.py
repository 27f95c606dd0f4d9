"""The release pipeline: stages run in order, local and reversible ones before uploads.

``registry``-like data lives in :mod:`poetflow.pipeline.stages` (cheap to import); the
runner in :mod:`poetflow.pipeline.runner`; ``poetflow run`` in :mod:`poetflow.pipeline.engine`.
"""

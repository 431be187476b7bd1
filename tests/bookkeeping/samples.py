"""The sample files of the tests: written by the project itself (``portal.sample_files``, which
the demo and the benchmarks use too)."""

from portal.sample_files import *  # noqa: F403

"""Shared test settings: hypothesis profiles sized for CI on two cores; every flag kind the tests
make must be in anet.flags' table."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _every_flag_has_a_kind_in_the_table():
    """Every Flag and Problem the whole test corpus makes has a kind in anet.flags.KINDS, and a
    kind that is never per-parent never names a parent (checked once the session ends)."""
    from anet.autograd import Problem
    from anet.debug.checks import Flag
    from anet.flags import KINDS

    made: set[tuple[str, str, bool]] = set()
    init, new, new_entry = Flag.__init__, Problem.__new__, Problem.__dict__["__new__"]

    def flag_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.add(("Flag", self.kind, self.index is None))

    def problem_new(cls, *args, **kwargs):
        problem = new(cls, *args, **kwargs)
        made.add(("Problem", problem.kind, problem.index is None))
        return problem

    Flag.__init__, Problem.__new__ = flag_init, staticmethod(problem_new)
    try:
        yield
    finally:
        Flag.__init__, Problem.__new__ = init, new_entry
    unknown = sorted(m for m in made if m[1] not in KINDS)
    assert unknown == [], f"kinds missing from anet.flags.KINDS: {unknown}"
    misplaced = sorted(m for m in made if not KINDS[m[1]].per_parent and not m[2])
    assert misplaced == [], f"node-wide kinds that named a parent: {misplaced}"

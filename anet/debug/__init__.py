"""anet.debug: step through backward() one node at a time, with flags, checks and renderers.

from anet.debug import BackwardSession, record
with record():                 # where each op was applied, fingerprints for `inplace`
    loss = model(x).sum()
s = BackwardSession(loss)      # plans the walk, runs nothing
s.step(); s.run(); s.finish(); s.restart()
print(render.tree(s))
print(charts.flow(pictures.flow(s)))   # the grads' sizes along the walk, on a log scale
"""

from anet.debug import charts, pictures, render
from anet.debug.checks import (
    FLAG_KINDS,
    KINDS,
    CheckResult,
    Flag,
    FlagKind,
    ParentCheck,
    vjp_check,
)
from anet.debug.recording import is_recording, record
from anet.debug.records import (
    STATUSES,
    GradInfo,
    Graph,
    LeafRecord,
    NodeRecord,
    ParentInfo,
    Where,
)
from anet.debug.session import BackwardSession, Breakpoint, Stop
from anet.debug.summary import Summary

__all__ = [
    "FLAG_KINDS",
    "KINDS",
    "STATUSES",
    "BackwardSession",
    "Breakpoint",
    "CheckResult",
    "Flag",
    "FlagKind",
    "GradInfo",
    "Graph",
    "LeafRecord",
    "NodeRecord",
    "ParentCheck",
    "ParentInfo",
    "Stop",
    "Summary",
    "Where",
    "charts",
    "is_recording",
    "pictures",
    "record",
    "render",
    "vjp_check",
]

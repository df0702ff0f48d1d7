"""A small real results set for the report tests: three methods x batch 1 and 20 x depths
1 and 5, a few steps each, memory probe on; and a tiny error-propagation study."""

from __future__ import annotations

from pathlib import Path

import profkit
from profkit.errorprop import run_study
from profkit.probes.memory import MemoryProbe

METHODS = ("standard", "mc-approx", "alsh-approx")
DEPTHS = (1, 5)


def make_results(root: Path) -> Path:
    for method in METHODS:
        for b in (1, 20):
            for h in DEPTHS:
                # batch 20: two short full epochs (curves); batch 1: a capped fraction of one
                cfg = profkit.RunConfig(method=method, dataset="mnist-5k", hidden_layers=h,
                                        width=16, batch_size=b, epochs=2,
                                        max_steps=8 if b == 1 else 240, warmup_steps=2,
                                        results=str(root), threads=1)
                profkit.run(cfg, probes=(MemoryProbe(interval_s=0.02),), progress=False)
    run_study(profkit.RunConfig(width=16, results=str(root)), depths=DEPTHS, seeds=(0,),
              steps=5, batch=8, methods=("alsh-approx", "mc-approx"), results=root)
    return root

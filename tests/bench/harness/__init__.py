"""What the bench programs share, by purpose.

* ``servers``: ``clb serve`` processes (the wrapper, readiness, stopping, their logs).
* ``services``: the scratch database and Redis namespace of a run, and its cleanup.
* ``cpu``: CPU and memory read from /proc, per program and for the whole machine.
* ``load``: load generation: bounded concurrency, open-loop pacing, client loop lag.
* ``stats``: percentiles and the millisecond summaries.
* ``report``: logging, the common options, the run's JSON header, the summary table and
  the ``main`` every load program runs.
"""

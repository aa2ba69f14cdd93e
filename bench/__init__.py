"""``make bench``: the registry measured against the fastest thing that could do
the same job on the same machine.  See docs/performance.md."""

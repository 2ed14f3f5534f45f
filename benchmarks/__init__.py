"""`make bench`: measurements recorded in docs/benchmarks.md (not tests: nothing here asserts)."""

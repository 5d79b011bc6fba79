"""The job fixtures (a controllable clock, the embedded runner and a real worker)."""

from fabcom.testing.jobs import embedded_jobs, fake_clock, jobs

__all__ = ["embedded_jobs", "fake_clock", "jobs"]

"""Federation fixtures (fabcom.testing.federation) and the job runners (fabcom.testing.jobs)."""

from fabcom.testing.federation import fed_settings, network, peer
from fabcom.testing.jobs import embedded_jobs, fake_clock, jobs

__all__ = ["embedded_jobs", "fake_clock", "fed_settings", "jobs", "network", "peer"]

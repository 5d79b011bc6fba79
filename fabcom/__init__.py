"""fabcom: inventory, projects and members for social-economy structures, federated."""

__version__ = "0.1.0.dev0"

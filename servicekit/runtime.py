"""Process-wide set-up that must happen before anything else is imported."""

import warnings


def prepare_green_runtime() -> None:
    """Monkey-patch for eventlet first; silence its deprecation notice (it is in bug-fix-only mode)."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

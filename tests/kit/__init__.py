"""Test kit: launchers of real components (nginx, …) for the suites; never shipped in a product package."""

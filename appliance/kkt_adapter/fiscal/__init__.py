"""Phase 1 of two-phase fiscalization: validate, journal, print, reconcile."""

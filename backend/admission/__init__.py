"""The admission webhook: records who created each Faultline object and admits it only if that
user may create its kind in every namespace it can touch (docs/security.md)."""

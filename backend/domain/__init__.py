"""Pure decision logic of the operator: which pods to target, what chaosd should enforce,
when a Schedule fires and which phase a chaos object is in. No I/O; unit-tested directly."""

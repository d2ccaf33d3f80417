"""One module (or package) per fault family. Each offers a pure `plan()` and `apply`,
`recover` and `verify` that talk to the kernel; see `chaosd.faults.base`."""

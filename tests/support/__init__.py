"""Helpers and fixtures that more than one test folder uses, each written once.

The fixture modules (`cluster`, `operator`, `own_operator`) are loaded for every run through
`pytest_plugins` in the root conftest.py, so a test folder needs no conftest to reach them; the
helper modules (`net`, `kube`, `pods`, `service`) are imported where they are used.

Tests drive the dev cluster and the local images through the tooling in hack/ (`devcluster`,
`localimages`), which is no installed package: importing this package puts it on the path.
"""

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
for _folder in ("hack/cluster", "hack/images"):
    if str(_REPO / _folder) not in sys.path:
        sys.path.insert(0, str(_REPO / _folder))

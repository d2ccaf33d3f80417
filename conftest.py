"""Loads the shared fixture modules of tests/support for every test folder (pytest honours
`pytest_plugins` only in the rootdir's conftest)."""

pytest_plugins = [
    "tests.support.cluster",
    "tests.support.operator",
    "tests.support.own_operator",
]

"""What the FUSE layer does to one operation, decided from the rules alone.

Kept free of FUSE and I/O so the sampling, matching and corruption logic is unit-tested without
root: the layer asks `decide` before an operation and `override_attrs` / `corrupt` after it.
"""

from __future__ import annotations

import random
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chaosd.faults.io.rules import IORule, compile_glob

# Operations whose reply carries attributes: an attrOverride aimed at "getattr" covers them all,
# since stat(2) may be answered from any of them.
ATTR_METHODS = frozenset({"getattr", "lookup", "setattr", "create", "mkdir", "symlink", "link"})
DATA_METHODS = frozenset({"read", "write"})
_KIND_BITS = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}


@dataclass(frozen=True)
class Decision:
    delay_s: float = 0.0
    errno: int = 0


class Injector:
    def __init__(self, rules: Sequence[IORule], rng: random.Random | None = None) -> None:
        self.rules = tuple(rules)
        self._globs = [compile_glob(r.path) for r in self.rules]
        self._rng = rng or random.Random()

    @property
    def active(self) -> bool:
        return bool(self.rules)

    def _matches(self, i: int, method: str, path: str) -> bool:
        rule = self.rules[i]
        if rule.methods and method not in rule.methods:
            if not (rule.action == "attrOverride" and "getattr" in rule.methods):
                return False
            if method not in ATTR_METHODS:
                return False
        return self._globs[i].match(path) is not None

    def _hit(self, rule: IORule) -> bool:
        return rule.percent >= 100 or self._rng.random() * 100 < rule.percent

    def decide(self, method: str, path: str) -> Decision:
        """Delay to add and errno to fail with (0: none); every matching rule samples alone."""
        delay, err = 0.0, 0
        for i, rule in enumerate(self.rules):
            if rule.action not in ("latency", "fault") or not self._matches(i, method, path):
                continue
            if not self._hit(rule):
                continue
            if rule.action == "latency":
                delay += rule.delay_s
            elif not err:
                err = rule.errno
        return Decision(delay, err)

    def touches_data(self, path: str) -> bool:
        """Whether reads or writes of `path` may be altered, so they must bypass the page cache."""
        return any(
            self._matches(i, m, path)
            for i, r in enumerate(self.rules)
            if r.action != "attrOverride"
            for m in DATA_METHODS
        )

    def override_attrs(self, method: str, path: str, attrs: Any) -> None:
        """Rewrite st_* fields of `attrs` (an EntryAttributes or look-alike) in place."""
        if method not in ATTR_METHODS and method != "readdir":
            return
        for i, rule in enumerate(self.rules):
            if rule.action == "attrOverride" and self._matches(i, method, path) and self._hit(rule):
                apply_attr(attrs, dict(rule.attr))

    def corrupt(self, method: str, path: str, data: bytes) -> bytes:
        if method not in DATA_METHODS or not data:
            return data
        out: bytearray | None = None
        for i, rule in enumerate(self.rules):
            if rule.action == "mistake" and self._matches(i, method, path) and self._hit(rule):
                out = out if out is not None else bytearray(data)
                mangle(out, rule, self._rng)
        return bytes(out) if out is not None else data


def apply_attr(attrs: Any, override: dict[str, Any]) -> None:
    for key in ("size", "blocks", "nlink", "uid", "gid", "rdev"):
        if key in override:
            setattr(attrs, f"st_{key}", int(override[key]))
    for key in ("atime", "mtime", "ctime"):
        if key in override:
            setattr(attrs, f"st_{key}_ns", int(float(override[key]) * 1e9))
    mode = int(attrs.st_mode)
    if "kind" in override:
        mode = _KIND_BITS[override["kind"]] | stat.S_IMODE(mode)
    if "perm" in override:
        mode = stat.S_IFMT(mode) | int(override["perm"])
    attrs.st_mode = mode


def mangle(buf: bytearray, rule: IORule, rng: random.Random) -> None:
    """Overwrite 1..max_occurrences runs of 1..max_length bytes, so at most
    max_occurrences * max_length bytes change."""
    for _ in range(rng.randint(1, rule.max_occurrences)):
        length = min(rng.randint(1, rule.max_length), len(buf))
        start = rng.randrange(0, len(buf) - length + 1)
        if rule.filling == "random":
            buf[start : start + length] = rng.randbytes(length)
        else:
            buf[start : start + length] = bytes(length)

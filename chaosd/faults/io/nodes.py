"""FUSE node ids for the files under a covered directory.

The kernel names files by node id; the layer works with paths relative to the covered
directory. Ids are handed out per (st_dev, st_ino) so hard links share a node and submounts
under the volume cannot collide, and forgotten nodes are dropped so the table stays small.
"""

from __future__ import annotations

import os

import pyfuse3


class NodeTable:
    def __init__(self, root: os.stat_result) -> None:
        self._paths: dict[int, str] = {pyfuse3.ROOT_INODE: ""}
        self._keys: dict[int, tuple[int, int]] = {pyfuse3.ROOT_INODE: (root.st_dev, root.st_ino)}
        self._ids: dict[tuple[int, int], int] = {(root.st_dev, root.st_ino): pyfuse3.ROOT_INODE}
        self._lookups: dict[int, int] = {}
        self._next = pyfuse3.ROOT_INODE + 1

    def __len__(self) -> int:
        return len(self._paths)

    def path(self, node: int) -> str:
        try:
            return self._paths[node]
        except KeyError:
            # The kernel only uses ids we gave it and have not forgotten.
            raise pyfuse3.FUSEError(2) from None  # ENOENT

    def node_for(self, st: os.stat_result, path: str) -> int:
        key = (st.st_dev, st.st_ino)
        node = self._ids.get(key)
        if node is None:
            node, self._next = self._next, self._next + 1
            self._ids[key] = node
            self._keys[node] = key
        if node != pyfuse3.ROOT_INODE:
            self._paths[node] = path  # latest name wins for hard links
        return node

    def remember(self, node: int) -> None:
        self._lookups[node] = self._lookups.get(node, 0) + 1

    def forget(self, node: int, count: int) -> None:
        left = self._lookups.get(node, 0) - count
        if left > 0:
            self._lookups[node] = left
            return
        self._lookups.pop(node, None)
        if node == pyfuse3.ROOT_INODE:
            return
        self._paths.pop(node, None)
        key = self._keys.pop(node, None)
        if key is not None and self._ids.get(key) == node:
            del self._ids[key]

    def renamed(self, old: str, new: str, *, exchange: bool = False) -> None:
        """Rewrite the paths of `old` and everything below it (and of `new` on an exchange)."""
        moves = {old: new, new: old} if exchange else {old: new}
        for node, path in list(self._paths.items()):
            for src, dst in moves.items():
                if path == src or path.startswith(src + "/"):
                    self._paths[node] = dst + path[len(src) :]
                    break

"""`python -m localimages [build|import] [name...]`: build the dev cluster's images by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from localimages.catalog import BUILDERS, available, build, ensure_imported


def main() -> None:
    parser = argparse.ArgumentParser(prog="hack/images/build")
    parser.add_argument("action", choices=["build", "import"])
    parser.add_argument("names", nargs="*", choices=[[], *BUILDERS, "faultline"], default=[])
    parser.add_argument(
        "--socket",
        default="/run/faultline-cluster/containerd/containerd.sock",
        help="containerd socket to import into",
    )
    args = parser.parse_args()
    names = args.names or available()
    if "faultline" in names:  # the big one: only when asked for by name
        from localimages import faultline

        names.remove("faultline")
        if args.action == "build":
            archive, image_id, tag = faultline.build()
            print(f"{tag}\t{archive}\tsha256:{image_id}")
        else:
            print(f"imported {faultline.ensure_imported(Path(args.socket))}")
        if not names:
            return
    if args.action == "build":
        for name in names:
            archive, image_id = build(name)
            print(f"{BUILDERS[name][0].tag}\t{archive}\tsha256:{image_id}")
    else:
        for tag in ensure_imported(Path(args.socket), names):
            print(f"imported {tag}")


if __name__ == "__main__":
    main()

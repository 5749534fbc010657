#!/usr/bin/env python3
"""Writes a one-layer container image as a docker-archive tar (what `ctr images import` and `podman load`
read), from files of the host: the node's pause image, with no registry and no image builder.

    k8s_image.py OUT.tar NAME:TAG ENTRYPOINT HOST_FILE:IMAGE_PATH...
"""
import hashlib
import io
import json
import sys
import tarfile


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    out, ref, entrypoint, files = argv[1], argv[2], argv[3], argv[4:]
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for spec in files:
            src, dst = spec.split(":", 1)
            info = t.gettarinfo(src, arcname=dst.lstrip("/"))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            with open(src, "rb") as f:
                t.addfile(info, f)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": [entrypoint], "User": "65535:65535"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "tests/deploy/k8s_image.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.split(":", 1)[1] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": [layer_name]}]).encode()
    with tarfile.open(out, mode="w") as t:
        for name, data in ((layer_name, layer_bytes), (config_name, config_bytes), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main(sys.argv)

"""`promote_model`: copy the winning model folder to a stable place scoring reads from."""


from components.images import component


@component
def promote_model(model_uri: str, promote_to_uri: str, gate_passed: bool) -> str:
    """Replace `promote_to_uri` with a copy of `model_uri` when the gate passed; returns where.

    Returns "" when nothing was promoted (no destination set, or the gate failed). On Vertex AI
    both gs:// URIs are reached through the Cloud Storage FUSE mount at /gcs/. The copy lands in
    a sibling folder first and replaces the old model only once complete.
    """
    import os
    import shutil

    def local_path(uri: str) -> str:
        if uri.startswith("gs://"):
            return "/gcs/" + uri[len("gs://") :]
        return uri.removeprefix("file://")

    destination = promote_to_uri.rstrip("/")
    if not destination:
        print("promote_to_uri is empty: the model stays where the run wrote it")
        return ""
    if not gate_passed:
        print(f"gate failed: {destination} keeps the model it had")
        return ""
    target = local_path(destination)
    staging = f"{target}.incoming"
    retired = f"{target}.retired"
    for leftover in (staging, retired):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(local_path(model_uri.rstrip("/")), staging)
    if os.path.exists(target):
        os.rename(target, retired)
    os.rename(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
    print(f"promoted {model_uri} -> {destination}")
    return destination

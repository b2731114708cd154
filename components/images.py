"""The image every lightweight (pure-Python) step runs in on Vertex AI.

`images/components/Dockerfile` builds it with kfp, the step code and the `contract` package
installed, so nothing is downloaded or installed when a step starts (private networks, VPC
Service Controls and Docker Hub rate limits all break run-time installs). Compiled templates
name it by the placeholder below; `compile.py --publish --components-image IMAGE` writes the
pushed image (by digest) into the published copy, so `build/` stays independent of any registry.
"""

from functools import partial

from kfp import dsl

#: Placeholder in compiled templates; replaced at publish time (never pulled).
COMPONENTS_IMAGE = "churn-components:unpublished"

#: `@component` for every lightweight step: the components image, and no `pip install kfp` at
#: run time (the image has the locked kfp).
component = partial(dsl.component, base_image=COMPONENTS_IMAGE, install_kfp_package=False)


def no_cache(task: dsl.PipelineTask, name: str | None = None) -> dsl.PipelineTask:
    """Turn execution caching off for `task` (and name it): a scheduled retrain must never reuse
    a cached step, whatever the job id; Vertex caches every task unless told not to."""
    task.set_caching_options(enable_caching=False)
    if name:
        task.set_display_name(name)
    return task

"""Compile the pipelines into build/<target>/<name>.yaml; --check; --publish.

python compile.py                                   # every pipeline, both targets
python compile.py --target vertex                   # one target
python compile.py --check                           # exit 1 naming stale files in build/
python compile.py --publish --env ENV --version V --components-image IMAGE [--force]
"""

import sys

from tooling.compile_cli import compile_main

if __name__ == "__main__":
    sys.exit(compile_main(sys.argv[1:]))

"""List, show, promote and roll back model versions in a registry (gs:// or a local folder).

python models.py list [--model churn] [--json]             # versions, key metrics, aliases
python models.py show VERSION|churn@champion [--json]      # one version: metrics and lineage
python models.py promote VERSION [--alias champion] [--reason TEXT]
python models.py rollback [--alias champion]               # back to the previous version
python models.py history [--alias champion]                # every recorded move
Every command takes --registry gs://BUCKET/PATH | file://... (default: the local runs/models).
"""

import sys

from model_registry.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

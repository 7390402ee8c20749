"""``python -m rmtrisk._codegen``: write or ``--check`` the generated files."""

from . import main

raise SystemExit(main())

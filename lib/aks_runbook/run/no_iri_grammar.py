"""jsonschema without rfc3987-syntax's grammar, for processes that read and write notebooks.

jsonschema, which nbformat imports, imports rfc3987-syntax where it is installed (jupyter-events
requires it), and that compiles a Lark grammar for the `iri` format at import: 2-3 s of CPU in
every process that runs or collects notebooks (python-jsonschema/jsonschema#1428). No schema
such a process validates uses that format (nbformat's schemas assert no `format` at all), so
the package is marked missing, and jsonschema goes without an `iri` checker as where it is not
installed. A process that has imported jsonschema already keeps its checker.

Imported first by `run.chapters`, and by the test suite as a plugin (`-p`), which pytest loads
before nbval's.
"""

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

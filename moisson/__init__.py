"""The ``moisson`` command line that wires spiders, pipelines and the catalogue."""

"""Pure functions that read French course metadata as a careful human does.

One module per field. Each function takes the platform's text (and, where the text is
relative, a reference date) and returns a small frozen result whose ``unparsed`` holds a
short reason when the text was not understood: a normaliser never raises on bad input.
The pipelines (``pipelines/duration.py`` …) and ``moisson normalise`` are thin callers.
"""

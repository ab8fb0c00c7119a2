"""Measurements of Moisson's normalisers: accuracy on the labelled corpus, date throughput."""

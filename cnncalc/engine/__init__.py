"""The analysis that walks a network's graph (cnncalc.graph): shapes, receptive fields, comparisons."""

"""The graph of layer nodes and the analysis that walks it."""

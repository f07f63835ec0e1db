"""Arithmetic: Sub and Div merges, element-wise operations with a constant, learned tensors."""

"""Matrix products and attention: MatMul, scaled dot-product attention, MultiheadAttention."""

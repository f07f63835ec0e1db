"""Whether a network holds a layer PyTorch may refuse in training, without loading the memory engine.

``cnncalc shape`` answers in eval mode and warns about what a train-mode forward would refuse
(:func:`cnncalc.engine.memory.training_refusals`); this cheap test of the layer kinds spares the
networks without such a layer the memory engine's import and walk.
"""

from __future__ import annotations

from cnncalc.graph import Network

# the kinds whose rule in cnncalc.engine.saved has a training check (``Rule.checked``):
# BatchNorm's _verify_batch_size in torch/nn/functional.py; tests/test_memory_cli.py keeps the two
# in agreement
CHECKED_KINDS = frozenset({"BatchNorm1d", "BatchNorm2d", "BatchNorm3d"})


def may_refuse(network: Network) -> bool:
    """True when ``network`` has a layer of a kind PyTorch may refuse in training."""
    return any(node.layer.kind in CHECKED_KINDS for node in network.nodes)

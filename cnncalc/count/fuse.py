"""``--fuse``: BatchNorm folded into the convolution or linear layer before it, as deployment
does (Ultralytics' ``fuse_conv_and_bn``, ultralytics/utils/torch_utils.py; torch's
``fuse_conv_bn_eval``). The convolution keeps its weights and gains a bias if it had none; the
BatchNorm, its parameters and its figures are gone."""

from __future__ import annotations

import dataclasses

from cnncalc.graph import NETWORK_INPUT, Block, Network, Node

_FOLDS_INTO = {f"Conv{n}d" for n in (1, 2, 3)} | {f"ConvTranspose{n}d" for n in (1, 2, 3)} | {"Linear"}
_NORMS = {f"BatchNorm{n}d" for n in (1, 2, 3)}


def foldable(network: Network) -> dict[int, int]:
    """BatchNorm node → the node it folds into: a BatchNorm whose one input is a convolution (or
    linear layer) that feeds nothing else and is no output of the network."""
    users: dict[int, int] = {}
    for node in network.nodes:
        for i in node.inputs:
            users[i] = users.get(i, 0) + 1
    outputs = set(network.output_nodes)
    found = {}
    for node in network.nodes:
        if node.layer.kind not in _NORMS or len(node.inputs) != 1 or node.inputs[0] == NETWORK_INPUT:
            continue
        source = network.nodes[node.inputs[0]]
        if source.layer.kind in _FOLDS_INTO and users.get(source.index) == 1 and source.index not in outputs:
            found[node.index] = source.index
    return found


def fuse(network: Network) -> Network:
    """``network`` with every foldable BatchNorm (:func:`foldable`) folded into its layer."""
    folded = foldable(network)
    if not folded:
        return network
    into = set(folded.values())
    new_index: dict[int, int] = {NETWORK_INPUT: NETWORK_INPUT}
    kept: list[Node] = []
    for node in network.nodes:
        if node.index in folded:
            continue
        new_index[node.index] = len(kept)
        kept.append(node)
    for norm, source in folded.items():
        new_index[norm] = new_index[source]
    nodes = tuple(
        dataclasses.replace(
            node,
            index=new_index[node.index],
            inputs=tuple(new_index[i] for i in node.inputs),
            layer=node.layer.model_copy(update={"bias": True}) if node.index in into else node.layer,
        )
        for node in kept
    )
    blocks = tuple(
        Block(
            b.path,
            b.kind,
            new_index[b.output],
            tuple(sorted({new_index[i] for i in b.nodes if i not in folded})),
            b.position,
        )
        for b in network.blocks
        if any(i not in folded for i in b.nodes)
    )
    outputs = tuple(new_index[i] for i in network.output_nodes)
    if not network.outputs and outputs == (len(nodes) - 1,):
        outputs = ()
    return dataclasses.replace(network, nodes=nodes, blocks=blocks, outputs=outputs)

"""Build a real torch.nn.Module from a cnncalc network, for the tests' PyTorch oracles."""

from __future__ import annotations

from typing import Any

from cnncalc.engine.analyze import trace
from cnncalc.graph import NETWORK_INPUT, Network


def to_torch(network: Network, torch: Any) -> Any:
    """An nn.Module computing the network: every node a torch.nn module (Add, Mul and Concat as
    torch.add, torch.mul and torch.cat), inferred arguments filled from the traced shapes."""
    nn = torch.nn
    steps = trace(network)
    modules = nn.ModuleList()
    for step in steps:
        layer = step.node.layer
        if layer.is_merge or layer.kind == "Narrow":
            modules.append(nn.Identity())
            continue
        kwargs: dict[str, Any] = dict(layer.model_dump())
        if layer.inferred and kwargs.get(layer.inferred) is None:
            x = step.input_shape
            kwargs[layer.inferred] = (
                x[-1]
                if layer.inferred == "in_features"
                else x[len(x) - layer.dims - 1]
                if layer.dims
                else x[1]
            )
        modules.append(getattr(nn, layer.kind)(**kwargs))

    class Graph(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.layers = modules

        def forward(self, x: Any) -> Any:
            values = {NETWORK_INPUT: x}
            for step, module in zip(steps, self.layers):
                inputs = [values[i] for i in step.node.inputs]
                layer = step.node.layer
                if layer.kind == "Add":
                    out = inputs[0]
                    for other in inputs[1:]:
                        out = out + other
                elif layer.kind == "Mul":
                    out = inputs[0]
                    for other in inputs[1:]:
                        out = out * other
                elif layer.kind == "Concat":
                    out = torch.cat(inputs, dim=layer.dim)  # type: ignore[attr-defined]
                elif layer.kind == "Narrow":
                    out = inputs[0].narrow(layer.dim, layer.start, layer.length)  # type: ignore[attr-defined]
                else:
                    out = module(inputs[0])
                values[step.node.index] = out
            return values[network.output_nodes[0]]

    return Graph()

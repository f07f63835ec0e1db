"""The network builder: names, scopes, blocks, references, order and the graph checks, by hand."""

from __future__ import annotations

import pytest

from cnncalc import analyze
from cnncalc.errors import GraphError, LimitError, Position, SpecError
from cnncalc.graph import NETWORK_INPUT, NetworkBuilder, Ref
from cnncalc.layers.activation import ReLU
from cnncalc.layers.conv import Conv2d
from cnncalc.layers.merge import Add, Concat
from cnncalc.limits import Limits


def conv(cin: int, cout: int) -> Conv2d:
    return Conv2d(in_channels=cin, out_channels=cout, kernel_size=3, padding=1)


def test_a_chain_gets_default_names_per_kind() -> None:
    b = NetworkBuilder((1, 3, 8, 8), name="chain")
    b.add(conv(3, 4))
    b.add(ReLU())
    b.add(conv(4, 4))
    net = b.build()
    assert [n.key for n in net.nodes] == ["conv2d_1", "relu_1", "conv2d_2"]
    assert [n.inputs for n in net.nodes] == [(NETWORK_INPUT,), (0,), (1,)]
    assert net.name == "chain"
    assert net.output_nodes == (2,)
    # 3·4·9 + 4 and 4·4·9 + 4 weights: the builder hands analysis typed layers unchanged
    assert analyze(net).totals.params == 112 + 148


def test_default_names_skip_names_claimed_before() -> None:
    b = NetworkBuilder((1, 3, 8, 8))
    b.claim("relu_1")
    b.add(ReLU())
    b.add(ReLU(), "relu_1", claimed=True)
    assert [n.key for n in b.build().nodes] == ["relu_2", "relu_1"]


def test_scopes_prefix_names_and_count_afresh() -> None:
    b = NetworkBuilder((1, 3, 8, 8))
    b.add(conv(3, 4))
    with b.scope("layer1"):
        b.add(conv(4, 4))
        b.add(ReLU(), "act")
    assert [n.key for n in b.build().nodes] == ["conv2d_1", "layer1.conv2d_1", "layer1.act"]


def test_a_residual_block_by_hand() -> None:
    b = NetworkBuilder((1, 4, 8, 8))
    stem = b.add(conv(4, 4))
    with b.block("res", "Residual"):
        with b.scope("res.body"):
            body = b.add(conv(4, 4), inputs=[stem])
        with b.scope("res"):
            b.add(Add(), "add", [body, stem])
    b.add(ReLU(), inputs=["res"])  # a block's name means its output
    net = b.build()
    assert [n.key for n in net.nodes] == ["conv2d_1", "res.body.conv2d_1", "res.add", "relu_1"]
    assert net.nodes[2].inputs == (1, 0)
    assert net.nodes[3].inputs == (2,)
    (block,) = net.blocks
    assert (block.path, block.kind, block.output, block.nodes) == ("res", "Residual", 2, (1, 2))


def test_forward_references_are_sorted_topologically() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(Concat(dim=1), "cat", ["a", "b"])
    b.add(ReLU(), "a", ["input"])
    b.add(ReLU(), "b", ["input"])
    b.output("cat")  # by default the output is the layer added last ("b"), as in a network file
    net = b.build()
    assert [n.key for n in net.nodes] == ["a", "b", "cat"]
    assert net.nodes[2].inputs == (0, 1)
    assert analyze(net).output_shape == (1, 4, 4, 4)


def test_outputs_declared_by_name() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "head1")
    second = b.add(ReLU(), "head2", ["input"])
    b.output("head1", second)  # by name or by handle
    assert b.build().outputs == (0, 1)


def test_a_name_used_twice_is_refused_where_it_was_written() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "x")
    with pytest.raises(SpecError) as err:
        b.add(ReLU(), "x", position=Position("net.yaml", 4, 3))
    assert str(err.value) == "net.yaml:4:3: layer name 'x' is used twice"


def test_an_unknown_reference_suggests_the_closest_name() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "stem")
    b.add(ReLU(), "head", [Ref("stme", Position("net.yaml", 6, 11))])
    with pytest.raises(GraphError) as err:
        b.build()
    assert str(err.value) == "net.yaml:6:11: unknown layer 'stme' in from: (did you mean 'stem'?)"


def test_a_cycle_is_named() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "a", ["b"], position=Position("net.yaml", 3, 5))
    b.add(ReLU(), "b", ["a"])
    with pytest.raises(GraphError) as err:
        b.build()
    assert str(err.value) == "net.yaml:3:5: layers 'a', 'b' form a cycle through from:"


def test_an_unused_result_is_refused() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "lost", position=Position("net.yaml", 2, 3))
    b.add(ReLU(), "last", ["input"])
    with pytest.raises(GraphError) as err:
        b.build()
    assert str(err.value) == (
        "net.yaml:2:3: the output of 'lost' (ReLU) is not used: feed it to a layer with from: "
        "or list it under outputs:"
    )


def test_an_empty_block_is_refused() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    with pytest.raises(SpecError) as err, b.block("body", "Sequential", Position("net.yaml", 3, 3)):
        pass
    assert str(err.value) == "net.yaml:3:3: the Sequential block 'body' has no layers"


def test_the_layer_limit_is_the_builders_argument() -> None:
    b = NetworkBuilder((1, 2, 4, 4), limits=Limits(max_layers=2))
    b.add(ReLU())
    b.add(ReLU())
    with pytest.raises(LimitError) as err:
        b.add(ReLU())
    assert err.value.limit == "max_layers"
    assert err.value.message == "the network has more than the limit of 2 layers"
    # a second builder is not affected: limits are not shared state
    other = NetworkBuilder((1, 2, 4, 4))
    for _ in range(3):
        other.add(ReLU())
    assert len(other.build().nodes) == 3


def test_nothing_added_is_refused() -> None:
    with pytest.raises(SpecError, match="the network has no layers"):
        NetworkBuilder((1, 2, 4, 4), source="empty.yaml").build()


def test_names_resolve_from_the_block_they_are_written_in() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    b.add(ReLU(), "act")
    with b.scope("block"):
        b.add(ReLU(), "act", ["input"])
        b.add(Add(), "sum", ["act", "input"])  # the block's own 'act', not the top-level one
    b.add(Add(), "top", ["act", "block.sum"])  # at the top, 'act' is the top-level layer
    net = b.build()
    keys = [n.key for n in net.nodes]
    assert keys == ["act", "block.act", "block.sum", "top"]
    assert net.nodes[2].inputs == (1, NETWORK_INPUT)
    assert net.nodes[3].inputs == (0, 2)


def test_a_short_name_from_outside_its_block_suggests_the_full_path() -> None:
    b = NetworkBuilder((1, 2, 4, 4))
    with b.scope("layer1"):
        b.add(ReLU(), "conv")
    b.add(ReLU(), "head", [Ref("conv", Position("net.yaml", 9, 11))])
    with pytest.raises(GraphError) as err:
        b.build()
    assert str(err.value) == "net.yaml:9:11: unknown layer 'conv' in from: (did you mean 'layer1.conv'?)"


def test_short_names_inside_a_residual_body_in_a_network_file() -> None:
    import cnncalc

    text = (
        "input: [1, 4, 8, 8]\n"
        "layers:\n"
        "  - type: Residual\n"
        "    name: res\n"
        "    body:\n"
        "      - {type: Conv2d, name: a, in_channels: 4, out_channels: 4, kernel_size: 3, padding: 1}\n"
        "      - {type: ReLU, name: b}\n"
        "      - {type: Add, from: [a, b]}\n"
    )
    net = cnncalc.load(text)
    by_key = {n.key: n for n in net.nodes}
    assert by_key["res.body.add_1"].inputs == (by_key["res.body.a"].index, by_key["res.body.b"].index)
    assert cnncalc.analyze(net).output_shape == (1, 4, 8, 8)

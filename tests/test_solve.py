"""The ``?`` solver: every solution checked with PyTorch, and a brute force with PyTorch over
the documented bound finding none missed."""

from __future__ import annotations

from typing import Any

import pytest

import cnncalc
from cnncalc.engine.solve import SENTINEL, parse_unknown_call, solve
from cnncalc.errors import SpecError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # many tiny forwards: threads only add overhead


def _torch_output(call: str, argument: str, value: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """PyTorch's output shape for the call form with ``argument=value``, or None if it refuses."""
    layer = parse_unknown_call(call).build(value)
    try:
        module = getattr(torch.nn, layer.kind)(**layer.model_dump())
        with torch.no_grad():
            return tuple(module(torch.zeros(shape)).shape)
    except (RuntimeError, ValueError):
        return None


def _spatial_fits(out: tuple[int, ...] | None, want: tuple[int, ...]) -> bool:
    return out is not None and out[len(out) - len(want) :] == want


CASES = [
    # (call form, input shape, wanted size)
    ("Conv2d(1, 2, 3, stride=2, padding=?)", (1, 1, 20, 20), 10),
    ("Conv2d(1, 2, 5, stride=1, padding=?, dilation=2)", (1, 1, 17, 17), 17),
    ("Conv1d(1, 2, 4, stride=3, padding=?)", (1, 1, 25), 9),
    ("Conv2d(1, 2, ?, stride=2, padding=1)", (1, 1, 20, 20), 10),
    ("Conv2d(1, 2, 3, stride=?)", (1, 1, 21, 21), 7),
    ("Conv2d(1, 2, 3, dilation=?)", (1, 1, 21, 21), 15),
    ("ConvTranspose2d(1, 2, 3, stride=2, padding=1, output_padding=?)", (1, 1, 10, 10), 20),
    ("ConvTranspose2d(1, 2, 3, stride=?, padding=1)", (1, 1, 10, 10), 19),
    ("ConvTranspose1d(1, 2, ?, stride=2)", (1, 1, 10), 22),
    ("ConvTranspose2d(1, 2, 3, stride=2, padding=?)", (1, 1, 8, 8), 13),
    ("MaxPool2d(3, stride=2, padding=?)", (1, 1, 20, 20), 10),
    ("MaxPool2d(?, stride=2)", (1, 1, 21, 21), 10),
    ("AvgPool2d(3, stride=2, padding=?, ceil_mode=True)", (1, 1, 21, 21), 11),
    ("MaxPool1d(2, stride=?)", (1, 1, 30), 10),
]


@pytest.mark.parametrize(("call", "shape", "want"), CASES)
def test_solutions_and_brute_force_agree_with_torch(call: str, shape: tuple[int, ...], want: int) -> None:
    report = solve(call, want, input_shape=shape)
    argument = parse_unknown_call(call).argument
    wanted = report.want
    found = [s.value for s in report.solutions if s.zero_pad is None]
    for solution in report.solutions:
        if solution.zero_pad is None:
            assert _torch_output(call, argument, solution.value, shape) == solution.output_shape
            assert _spatial_fits(solution.output_shape, wanted)
    start = 0 if argument in ("padding", "output_padding") else 1
    brute = [
        v
        for v in range(start, report.bound + 1)
        if _spatial_fits(_torch_output(call, argument, v, shape), wanted)
    ]
    assert found == brute, (call, report.bound)
    assert found or report.solutions, call  # every case here has an answer


def test_padding_for_stride_2_at_224() -> None:
    # (224 + 2p - 2 - 1) // 2 + 1 = 112 exactly for p = 1 (p = 0 gives 111, p = 2 gives 113)
    report = solve("Conv2d(3, 16, 3, stride=2, padding=?)", 112, input_shape=(1, 3, 224, 224))
    assert report.to_dict()["solutions"] == [{"padding": 1, "output_shape": [1, 16, 112, 112]}]
    assert report.bound == (224 + 1) * 2 + 1 * 3  # (max(L, W) + 1) * S + D * K + 2 * P, P the unknown's 0
    assert tuple(torch.nn.Conv2d(3, 16, 3, stride=2, padding=1)(torch.zeros(1, 3, 224, 224)).shape) == (
        1,
        16,
        112,
        112,
    )


def test_per_axis_padding() -> None:
    # H: (20 + 2p - 3) // 2 + 1 = 10 needs p = 1; W: = 11 needs p = 2
    report = solve("Conv2d(1, 1, 3, stride=2, padding=?)", (10, 11), input_shape=(1, 1, 20, 20))
    assert [s.value for s in report.solutions] == [(1, 2)]
    module = torch.nn.Conv2d(1, 1, 3, stride=2, padding=(1, 2))
    assert (
        tuple(module(torch.zeros(1, 1, 20, 20)).shape) == report.solutions[0].output_shape == (1, 1, 10, 11)
    )


def test_same_split_for_an_even_kernel() -> None:
    # a 2x2 kernel at stride 1 keeps 224 only with one unit of padding in all: TensorFlow's
    # "SAME" puts it after (right, bottom), which ZeroPad2d((0, 1, 0, 1)) reproduces
    report = solve("Conv2d(3, 8, 2, padding=?)", 224, input_shape=(1, 3, 224, 224))
    (solution,) = report.solutions
    assert solution.to_dict("padding") == {
        "padding": 0,
        "output_shape": [1, 8, 224, 224],
        "zero_pad": [0, 1, 0, 1],
        "before": "ZeroPad2d((0, 1, 0, 1))",
    }
    model = torch.nn.Sequential(torch.nn.ZeroPad2d((0, 1, 0, 1)), torch.nn.Conv2d(3, 8, 2, padding=0))
    assert tuple(model(torch.zeros(1, 3, 224, 224)).shape) == (1, 8, 224, 224)


def test_ceil_mode() -> None:
    # MaxPool2d(2, 2) on 113: floor gives 56, ceil gives 57
    report = solve("MaxPool2d(2, stride=2, ceil_mode=?)", 57, input_shape=(1, 1, 113, 113))
    assert [s.value for s in report.solutions] == [True]
    module = torch.nn.MaxPool2d(2, stride=2, ceil_mode=True)
    assert tuple(module(torch.zeros(1, 1, 113, 113)).shape) == (1, 1, 57, 57)


def test_output_padding_refusal_respected() -> None:
    # ConvTranspose2d(3, stride=2, padding=1) on 10 gives 19 + output_padding; 21 would need
    # output_padding 2, which PyTorch refuses (not smaller than the stride)
    report = solve(
        "ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=?)", 21, input_shape=(1, 1, 10, 10)
    )
    assert report.solutions == ()
    with pytest.raises(RuntimeError):
        torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=2)(torch.zeros(1, 1, 10, 10))


def test_unknown_in_a_network() -> None:
    # conv (padding ?) -> pool 2 -> transposed conv 2x -> Concat with the conv: the output keeps
    # 32 only with "same" padding 1 for the 3x3 conv
    net = cnncalc.network(
        [1, 1, 32, 32],
        [
            {
                "name": "c",
                "type": "Conv2d",
                "in_channels": 1,
                "out_channels": 2,
                "kernel_size": 3,
                "padding": 0,
            },
            {"name": "p", "type": "MaxPool2d", "kernel_size": 2},
            {
                "name": "u",
                "type": "ConvTranspose2d",
                "in_channels": 2,
                "out_channels": 2,
                "kernel_size": 2,
                "stride": 2,
            },
            {"name": "cat", "type": "Concat", "from": ["u", "c"]},
        ],
    )
    report = solve(net, 32, unknown=("c", "padding"))
    assert [s.value for s in report.solutions] == [1]

    def torch_out(p: int) -> tuple[int, ...] | None:
        c = torch.nn.Conv2d(1, 2, 3, padding=p)
        u = torch.nn.ConvTranspose2d(2, 2, 2, stride=2)
        try:
            y = c(torch.zeros(1, 1, 32, 32))
            return tuple(torch.cat([u(torch.nn.MaxPool2d(2)(y)), y], 1).shape)
        except RuntimeError:
            return None

    assert [p for p in range(report.bound + 1) if _spatial_fits(torch_out(p), (32, 32))] == [1]
    assert torch_out(1) == report.solutions[0].output_shape


def test_parse_unknown_call() -> None:
    uc = parse_unknown_call("Conv2d(3, 16, ?, stride=2)")
    assert (uc.argument, uc.offset) == ("kernel_size", 14)
    assert uc.call.args[2].value == SENTINEL
    assert parse_unknown_call("LazyConv2d(16, ?)").argument == "kernel_size"  # in_channels inferred
    with pytest.raises(SpecError, match="exactly one"):
        parse_unknown_call("Conv2d(3, 16, 3)")
    with pytest.raises(SpecError, match="exactly one"):
        parse_unknown_call("Conv2d(3, ?, ?)")
    with pytest.raises(SpecError, match="whole argument"):
        parse_unknown_call("Conv2d(3, 16, (3, ?))")
    with pytest.raises(SpecError, match="cannot solve for 'groups'"):
        solve("Conv2d(4, 4, 3, groups=?)", 8, input_shape=(1, 4, 10, 10))

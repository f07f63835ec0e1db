"""The roofline bound per layer (Williams et al., CACM 2009), derived by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.engine.analyze import analyze
from cnncalc.engine.roofline import DEVICES, bounds, parse_device
from cnncalc.errors import ArgumentError
from cnncalc.spec.network import network_from_calls


def test_a_convolution_by_hand() -> None:
    """Conv2d(3, 8, 3) on 1×3×8×8, float32: output 8·6·6 = 288 elements, 288·3·3·3 = 7,776 MACs,
    8·27 + 8 = 224 parameters. It moves 192 + 288 + 224 = 704 elements = 2,816 bytes and performs
    15,552 operations. On 4 TOPS and 25.6 GB/s: compute 15,552 / 4·10¹² s, memory
    2,816 / 25.6·10⁹ s = 11/10⁸ s, the larger: memory-bound; intensity 7,776 / 2,816 = 243/88."""
    report = analyze(network_from_calls(["Conv2d(3, 8, 3)"], (1, 3, 8, 8)))
    device = parse_device("4TOPS,25.6GB/s", "float32")
    assert (device.peak_ops, device.bandwidth) == (4 * 10**12, 25_600_000_000)
    (conv,) = bounds(report, device)
    assert (conv.bytes_moved, conv.ops) == (2816, 15552)
    assert conv.intensity == Fraction(243, 88)
    assert conv.seconds == Fraction(11, 10**8)
    assert conv.memory_bound
    assert device.ridge == Fraction(4 * 10**12, 2 * 25_600_000_000)  # 625/8 MACs per byte


def test_compute_bound_when_intensity_passes_the_ridge() -> None:
    """Conv2d(64, 64, 3, padding=1) on 1×64×56×56 at int8 on a Jetson Orin Nano 8 GB (20 dense
    TOPS, 68 GB/s; ridge 20·10¹² / (2·68·10⁹) = 2500/17 ≈ 147 MACs per byte): 64·56·56 = 200,704
    outputs × 576 = 115,605,504 MACs; bytes 200,704 + 200,704 + 36,928 = 438,336 (one each at
    int8); intensity ≈ 264 > 147: compute-bound, 231,211,008 / 20·10¹² s."""
    report = analyze(network_from_calls(["Conv2d(64, 64, 3, padding=1)"], (1, 64, 56, 56)))
    device = DEVICES["jetson-orin-nano-8gb"]
    (conv,) = bounds(report, device)
    assert conv.bytes_moved == 438_336
    assert not conv.memory_bound
    assert conv.seconds == Fraction(231_211_008, 20 * 10**12)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tpu9000", "--device: unknown device 'tpu9000'"),
        ("4TOPS", "--device: unknown device '4TOPS'"),
        ("4GB/s,4TOPS", "--device: '4GB/s' is not a rate such as 4TOPS"),
        ("4TOPS,fast", "--device: 'fast' is not a bandwidth such as 25.6GB/s"),
    ],
)
def test_bad_device_specs(spec: str, message: str) -> None:
    with pytest.raises(ArgumentError) as info:
        parse_device(spec, "float32")
    assert info.value.message.startswith(message)

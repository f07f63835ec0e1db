"""The roofline bound of each layer on a device: the least time its arithmetic and its memory
traffic can take (Williams, Waterman and Patterson, "Roofline: an insightful visual performance
model for multicore architectures", CACM 2009).

A layer moves at least its inputs, its output and its parameters once (bytes by the network's
dtype) and performs 2 × MACs operations (a multiply-accumulate is two, as accelerators count
their peak in TOPS). Its time is at least ``max(ops / peak, bytes / bandwidth)``: memory-bound
when the second term is the larger, that is when its arithmetic intensity (MACs per byte
moved) is below the device's ridge point ``peak / (2 × bandwidth)``. A bound, not a prediction: real kernels
reread tiles, fuse layers, and never reach the peak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.errors import ArgumentError
from cnncalc.graph import DTYPE_BYTES
from cnncalc.layers.base import numel
from cnncalc.report import Report


@dataclass(frozen=True)
class Device:
    """Peak operations per second at a dtype and memory bandwidth in bytes per second."""

    name: str
    peak_ops: int
    bandwidth: int
    dtype: str
    source: str = ""

    @property
    def ridge(self) -> Fraction:
        """MACs per byte above which a layer is compute-bound."""
        return Fraction(self.peak_ops, 2 * self.bandwidth)


G, T = 10**9, 10**12

# Dense peaks (NVIDIA quotes Orin's INT8 TOPS with 2:4 structured sparsity, twice the dense
# rate; a network without that sparsity gets the dense one) and DRAM bandwidths from the
# vendors' datasheets.
DEVICES: dict[str, Device] = {
    d.name: d
    for d in (
        Device(
            "jetson-nano",
            472 * G,
            256 * G // 10,
            "float16",
            "NVIDIA Jetson Nano module datasheet: 472 GFLOPS FP16, 64-bit LPDDR4 25.6 GB/s",
        ),
        Device(
            "jetson-orin-nano-8gb",
            20 * T,
            68 * G,
            "int8",
            "NVIDIA Jetson Orin Nano series datasheet: 40 INT8 TOPS sparse (20 dense), "
            "128-bit LPDDR5 68 GB/s",
        ),
        Device(
            "jetson-orin-nano-super",
            335 * T // 10,
            102 * G,
            "int8",
            "NVIDIA Jetson Orin Nano Super developer kit (JetPack 6.1 clocks): 67 INT8 TOPS sparse "
            "(33.5 dense), 102 GB/s",
        ),
    )
}

_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)\s*(OPS|FLOPS|B/S)\s*$", re.I)


def _rate(text: str, unit: str) -> int:
    """``4TOPS`` → 4·10¹², ``25.6GB/s`` → 25.6·10⁹, exactly (decimal text, no float)."""
    match = _RATE.match(text)
    if not match or (match[3].upper() == "B/S") != (unit == "B/S"):
        want = "a rate such as 4TOPS or 472GFLOPS" if unit == "OPS" else "a bandwidth such as 25.6GB/s"
        raise ArgumentError(f"--device: {text.strip()!r} is not {want}", "device")
    value = Fraction(match[1]) * _UNITS[match[2].upper()]
    if value <= 0 or value.denominator != 1:
        raise ArgumentError(f"--device: {text.strip()!r} is not a whole positive rate", "device")
    return int(value)


def parse_device(spec: str, dtype: str) -> Device:
    """A device of :data:`DEVICES` by name, or ``PEAK,BANDWIDTH`` (``4TOPS,25.6GB/s``) for the
    network's dtype."""
    key = spec.strip().lower()
    if key in DEVICES:
        return DEVICES[key]
    if "," not in spec:
        names = ", ".join(DEVICES)
        raise ArgumentError(
            f"--device: unknown device {spec.strip()!r} (known: {names}; or give PEAK,BANDWIDTH "
            "such as 4TOPS,25.6GB/s)",
            "device",
        )
    peak, bandwidth = spec.split(",", 1)
    return Device(spec.strip(), _rate(peak, "OPS"), _rate(bandwidth, "B/S"), dtype)


@dataclass(frozen=True)
class LayerBound:
    """One layer's traffic, operations, intensity and time bound (seconds, exact)."""

    bytes_moved: int
    ops: int
    intensity: Fraction | None  # MACs per byte moved; None when nothing moves
    seconds: Fraction
    memory_bound: bool


def bounds(report: Report, device: Device) -> list[LayerBound]:
    """Each layer's roofline bound on ``device``, bytes counted at the device's dtype."""
    itemsize = DTYPE_BYTES[device.dtype]
    shapes = {(layer.path or layer.name): layer.output_shape for layer in report.layers}
    shapes["input"] = report.input_shape
    out = []
    for layer in report.layers:
        inputs = [shapes[p] for p in layer.inputs if p in shapes] or [layer.input_shape]
        elements = sum(numel(s) for s in inputs) + numel(layer.output_shape) + layer.params
        moved = elements * itemsize
        ops = 2 * layer.macs
        compute = Fraction(ops, device.peak_ops)
        memory = Fraction(moved, device.bandwidth)
        out.append(
            LayerBound(
                moved,
                ops,
                Fraction(layer.macs, moved) if moved else None,
                max(compute, memory),
                memory > compute,
            )
        )
    return out

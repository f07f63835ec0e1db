"""Merge layers: element-wise Add and Mul (with PyTorch's broadcasting) and Concat (torch.cat)."""

from typing import ClassVar

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, MergeBack, Shape


def broadcast(xs: list[Shape], op: str) -> Shape:
    """PyTorch's broadcasting: align on the right; each axis equal, or 1 in all but one input.

    https://pytorch.org/docs/stable/notes/broadcasting.html
    """
    rank = max(len(x) for x in xs)
    out = []
    for axis in range(-rank, 0):
        sizes = {x[axis] for x in xs if len(x) >= -axis}
        sizes.discard(1)
        if len(sizes) > 1:
            values = " and ".join(str(v) for v in sorted(sizes))
            raise GeometryError(
                f"cannot {op}: sizes {values} differ at axis {axis + rank} "
                f"(broadcasting needs equal sizes or 1)"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


class _Elementwise(Layer, abstract=True):
    """Element-wise merges: ``torch.add`` / ``torch.mul`` of all inputs, broadcast."""

    is_merge = True
    verb: ClassVar[str] = "add"

    def apply(self, x: Shape) -> Geometry:
        return Geometry(x)

    def merge(self, xs: list[Shape]) -> tuple[Shape, list[MergeBack]]:
        out = broadcast(xs, self.verb)

        def back_for(x: Shape) -> MergeBack:
            def back(axis: int, j: int) -> int | None:
                # axis counts from the end; a broadcast axis of size 1 always reads position 0
                return 0 if len(x) >= -axis and x[axis] == 1 else j

            return back

        return out, [back_for(x) for x in xs]


class Add(_Elementwise):
    """``a + b (+ ...)``: a residual connection's merge; shapes equal or broadcastable."""

    verb = "add"


class Mul(_Elementwise):
    """``a * b (* ...)``: gating such as squeeze-and-excitation; shapes equal or broadcastable."""

    verb = "multiply"


class Concat(Layer):
    """``torch.cat(inputs, dim)``: shapes equal except along ``dim`` (default 1, the channels)."""

    is_merge = True

    dim: int = 1

    def apply(self, x: Shape) -> Geometry:
        self.merge([x])  # a one-input concatenation is the identity, with the same checks
        return Geometry(x)

    def merge(self, xs: list[Shape]) -> tuple[Shape, list[MergeBack]]:
        rank = len(xs[0])
        if not -rank <= self.dim < rank:
            raise GeometryError(f"dim {self.dim} is out of range for {rank}D inputs", "dim")
        dim = self.dim % rank
        for x in xs[1:]:
            if len(x) != rank:
                raise GeometryError(f"cannot concatenate a {rank}D and a {len(x)}D tensor")
            for i, (a, b) in enumerate(zip(xs[0], x)):
                if i != dim and a != b:
                    raise GeometryError(
                        f"cannot concatenate along dim {dim}: axis {i} is {a} in one input and {b} in another"
                    )
        out = list(xs[0])
        out[dim] = sum(x[dim] for x in xs)
        offsets = []
        start = 0
        for x in xs:
            offsets.append(start)
            start += x[dim]

        def back_for(k: int) -> MergeBack:
            def back(axis: int, j: int) -> int | None:
                if axis % rank != dim:
                    return j
                local = j - offsets[k]
                return local if 0 <= local < xs[k][dim] else None

            return back

        return tuple(out), [back_for(k) for k in range(len(xs))]

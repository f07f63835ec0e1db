"""Whole networks written with the tensor and attention kinds, against published figures."""

from __future__ import annotations

from cnncalc.engine.analyze import analyze
from cnncalc.spec.network import load_text

# torchvision/models/vision_transformer.py vit_b_16: a 16×16 patch convolution, a class token
# and position embedding, 12 encoder blocks (LayerNorm, self-attention, LayerNorm, MLP of 3072,
# each with its residual), a final LayerNorm and the head on the class token.
VIT_B_16 = """
name: vit_b_16
input: [1, 3, 224, 224]
layers:
  - Conv2d(3, 768, 16, stride=16)
  - Flatten(2)
  - Transpose(1, 2)
  - LearnedConcat((1, 1, 768), 1)
  - LearnedAdd((1, 197, 768))
  - type: Sequential
    name: encoder
    repeat: 12
    layers:
      - type: Residual
        body: [LayerNorm(768, eps=1e-6), MultiheadAttention(768, 12, batch_first=True)]
      - type: Residual
        body: [LayerNorm(768, eps=1e-6), Linear(768, 3072), GELU, Linear(3072, 768)]
  - LayerNorm(768, eps=1e-6)
  - Select(1, 0)
  - Linear(768, 1000)
"""


def test_vit_b_16_matches_torchvision_published_figures() -> None:
    # torchvision ViT_B_16_Weights.IMAGENET1K_V1.meta: num_params 86,567,656, _ops 17.564 (GFLOPS
    # column = multiply-adds, attention's matrix products included)
    report = analyze(load_text(VIT_B_16, "vit_b_16.yaml"))
    assert report.output_shape == (1, 1000)
    assert report.totals.params == 86_567_656
    assert round(report.totals.macs / 1e9, 3) == 17.564
    # the token sequence has no spatial map the algebra follows: reported as unknown
    assert report.receptive_field is None


# torchvision/models/convnext.py convnext_tiny: stages of (96, 3), (192, 3), (384, 9), (768, 3)
# CNBlocks (a 7×7 depth-wise convolution, LayerNorm and the MLP channels-last between two
# permutations, layer scale, stochastic depth), LayerNorm2d and a 2×2 convolution between stages
CONVNEXT_TINY = """
name: convnext_tiny
input: [1, 3, 224, 224]
layers:
  - Conv2d(3, 96, 4, stride=4)
  - LayerNorm2d(96, eps=1e-6)
  - type: Sequential
    name: stage1
    repeat: 3
    layers:
      - type: Residual
        body:
          - Conv2d(96, 96, 7, padding=3, groups=96)
          - Permute((0, 2, 3, 1))
          - LayerNorm(96, eps=1e-6)
          - Linear(96, 384)
          - GELU
          - Linear(384, 96)
          - Permute((0, 3, 1, 2))
          - LearnedMul((96, 1, 1))
          - StochasticDepth(0.1, 'row')
  - LayerNorm2d(96, eps=1e-6)
  - Conv2d(96, 192, 2, stride=2)
  - type: Sequential
    name: stage2
    repeat: 3
    layers:
      - type: Residual
        body:
          - Conv2d(192, 192, 7, padding=3, groups=192)
          - Permute((0, 2, 3, 1))
          - LayerNorm(192, eps=1e-6)
          - Linear(192, 768)
          - GELU
          - Linear(768, 192)
          - Permute((0, 3, 1, 2))
          - LearnedMul((192, 1, 1))
          - StochasticDepth(0.1, 'row')
  - LayerNorm2d(192, eps=1e-6)
  - Conv2d(192, 384, 2, stride=2)
  - type: Sequential
    name: stage3
    repeat: 9
    layers:
      - type: Residual
        body:
          - Conv2d(384, 384, 7, padding=3, groups=384)
          - Permute((0, 2, 3, 1))
          - LayerNorm(384, eps=1e-6)
          - Linear(384, 1536)
          - GELU
          - Linear(1536, 384)
          - Permute((0, 3, 1, 2))
          - LearnedMul((384, 1, 1))
          - StochasticDepth(0.1, 'row')
  - LayerNorm2d(384, eps=1e-6)
  - Conv2d(384, 768, 2, stride=2)
  - type: Sequential
    name: stage4
    repeat: 3
    layers:
      - type: Residual
        body:
          - Conv2d(768, 768, 7, padding=3, groups=768)
          - Permute((0, 2, 3, 1))
          - LayerNorm(768, eps=1e-6)
          - Linear(768, 3072)
          - GELU
          - Linear(3072, 768)
          - Permute((0, 3, 1, 2))
          - LearnedMul((768, 1, 1))
          - StochasticDepth(0.1, 'row')
  - AdaptiveAvgPool2d(1)
  - LayerNorm2d(768, eps=1e-6)
  - Flatten(1)
  - Linear(768, 1000)
"""


def test_convnext_tiny_matches_torchvision_published_figures() -> None:
    # torchvision ConvNeXt_Tiny_Weights.IMAGENET1K_V1.meta: num_params 28,589,128, _ops 4.456
    report = analyze(load_text(CONVNEXT_TINY, "convnext_tiny.yaml"))
    assert report.output_shape == (1, 1000)
    assert report.totals.params == 28_589_128
    assert round(report.totals.macs / 1e9, 3) == 4.456
    # the channels-last permutation moves the spatial axes: the field is unknown, not guessed
    assert report.receptive_field is None

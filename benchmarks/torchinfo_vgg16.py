"""The same VGG-16 summary with torchinfo, for the README's side-by-side timing (needs torch and
torchinfo; torchvision is not used: the model is written out as torchvision builds it).

    /usr/bin/time -f "%e s %M KB" python benchmarks/torchinfo_vgg16.py > /dev/null
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torchinfo import summary  # noqa: E402


def vgg16() -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(v), 3, padding=1), nn.ReLU(inplace=True)]
            channels = int(v)
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(25088, 4096),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(4096, 1000),
    )


if __name__ == "__main__":
    with torch.no_grad():
        print(summary(vgg16(), input_size=(1, 3, 224, 224), verbose=0))

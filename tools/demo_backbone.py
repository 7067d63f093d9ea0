"""Build every EdgeNeXt variant and print what a user checks first: the
parameter count and MAdds of the ImageNet classifier next to the published
figures, and the multi-scale feature shapes a detector gets at 320x320.
"""
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from mmedgenext.models import ARCH_SETTINGS, EdgeNeXt

# REFERENCE.md section 1 (paper and reference repo): params (M), MAdds (M).
PUBLISHED = {
    'xx_small': (1.33, 260.58), 'x_small': (2.34, 538.0),
    'small': (5.59, 1260.59), 'base': (18.51, 3840.93),
    'xx_small_bn_hs': (1.33, 259.53), 'x_small_bn_hs': (2.34, 535.84),
    'small_bn_hs': (5.58, 1257.28),
}


class Classifier(nn.Module):
    """The reference ImageNet model: pooled, normalised features -> Linear."""

    def __init__(self, arch):
        super().__init__()
        self.backbone = EdgeNeXt(
            arch, out_indices=(3, ), gap_before_final_norm=True)
        self.head = nn.Linear(self.backbone.channels[-1], 1000)

    def forward(self, x):
        return self.head(self.backbone(x)[0])


def main():
    torch.manual_seed(0)
    print('| arch | params | published | MAdds @256 | published | '
          'features @320x320 |')
    print('|---|---|---|---|---|---|')
    for arch in ARCH_SETTINGS:
        model = Classifier(arch).eval()
        params = sum(p.numel() for p in model.parameters())
        analyzer = FlopAnalyzer(model, torch.randn(1, 3, 256, 256))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        madds = analyzer.total()
        with torch.no_grad():
            feats = EdgeNeXt(arch).eval()(torch.randn(1, 3, 320, 320))
        shapes = ' '.join('x'.join(map(str, f.shape[1:])) for f in feats)
        pub_params, pub_madds = PUBLISHED[arch]
        print(f'| {arch} | {params:,} | {pub_params}M | {madds / 1e6:.2f}M | '
              f'{pub_madds}M | {shapes} |', flush=True)


if __name__ == '__main__':
    main()

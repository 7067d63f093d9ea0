"""An independent, functional EdgeFormer-S / ml-cvnets SSDLite / DeepLabv3,
written from the authors' description and code (hkzhang-git/ParC-Net,
cvnets-v0.1), reading weights by the authors' state-dict key names.

It shares no code with mmedgenext: the global circular convolutions are sums
of rolled maps, kernel resizing is explicit linear interpolation, BN is
written out, priors come from nested loops. Run with ``Weights()`` (no
state dict), a forward also *creates* random weights under every key the
authors' model holds, so a test gets a random checkpoint in the released
layout from the same description.
"""
import math
from itertools import product

import torch
import torch.nn.functional as F
from torchvision.ops import nms

# EdgeFormer-S (config scale_s): MV2 widths, GCC widths / blocks / meta sizes
S_STAGES = [(96, 192, 2, 32), (128, 256, 4, 16), (160, 320, 3, 8)]


class Weights:
    """Reads ``sd[name]``; with no state dict given, creates random values
    (scaled so a deep random network keeps sane activations)."""

    def __init__(self, sd=None, seed=0):
        self.create = sd is None
        self.sd = {} if sd is None else sd
        self.g = torch.Generator().manual_seed(seed)

    def __call__(self, name, shape, kind='weight'):
        if name not in self.sd:
            if not self.create:
                raise KeyError(name)
            n = torch.randn(shape, generator=self.g)
            if kind == 'weight':
                fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
                n = n * fan_in**-0.5
            elif kind == 'kernel':  # a global kernel of shape[-1] or [-2] taps
                n = n * max(shape[-1], shape[-2])**-0.5
            elif kind == 'gamma':
                n = 1 + 0.2 * n
            elif kind == 'var':
                n = 0.5 + n.abs()
            else:  # biases, BN means and shifts, positional embeddings
                n = 0.2 * n
            self.sd[name] = n
        return self.sd[name]


def conv(W, name, x, cin, cout, k, stride=1, groups=1, dilation=1,
         bias=False):
    w = W(f'{name}.weight', (cout, cin // groups, k, k))
    b = W(f'{name}.bias', (cout, ), 'bias') if bias else None
    return F.conv2d(x, w, b, stride, (k - 1) // 2 * dilation, dilation,
                    groups)


def bn(W, name, x, c):
    mean = W(f'{name}.running_mean', (c, ), 'bias')
    var = W(f'{name}.running_var', (c, ), 'var')
    gamma = W(f'{name}.weight', (c, ), 'gamma')
    beta = W(f'{name}.bias', (c, ), 'bias')
    if W.create:
        W.sd[f'{name}.num_batches_tracked'] = torch.tensor(7)
    scale = gamma / torch.sqrt(var + 1e-5)
    return x * scale.view(1, -1, 1, 1) + (beta - mean * scale).view(
        1, -1, 1, 1)


ACTS = dict(silu=lambda x: x * torch.sigmoid(x), relu=torch.relu,
            none=lambda x: x)


def conv_layer(W, name, x, cin, cout, k, stride=1, groups=1, dilation=1,
               bias=False, norm=True, act='silu'):
    x = conv(W, f'{name}.block.conv', x, cin, cout, k, stride, groups,
             dilation, bias)
    if norm:
        x = bn(W, f'{name}.block.norm', x, cout)
    return ACTS[act](x)


def mv2(W, name, x, cin, cout, stride, dilation=1):
    hidden = 4 * cin
    y = conv_layer(W, f'{name}.block.exp_1x1', x, cin, hidden, 1)
    y = conv_layer(W, f'{name}.block.conv_3x3', y, hidden, hidden, 3, stride,
                   hidden, dilation)
    y = conv_layer(W, f'{name}.block.red_1x1', y, hidden, cout, 1, act='none')
    return x + y if stride == 1 and cin == cout else y


def resize_1d(kernel, length):
    """Linear resampling of (C, K) to (C, length), end points aligned."""
    size = kernel.shape[1]
    if length == 1:
        return kernel[:, :1]
    pos = torch.arange(length, dtype=torch.float64) * (size - 1) / (length - 1)
    lo = pos.floor().long().clamp(max=size - 1)
    hi = (lo + 1).clamp(max=size - 1)
    frac = (pos - lo).to(kernel.dtype)
    return kernel[:, lo] * (1 - frac) + kernel[:, hi] * frac


def circular(x, kernel, dim):
    """out[i] = sum_k kernel[k] * x[(i + k) mod L] along ``dim``."""
    out = 0
    for k in range(x.shape[dim]):
        out = out + kernel[:, k].view(1, -1, 1, 1) * torch.roll(x, -k, dim)
    return out


def gcc_block(W, name, x, dim, meta, ffn, use_pe):
    size = x.shape[2]
    kern = {n: resize_1d(W(f'{name}.meta_kernel_{n}', (dim, 1, meta, 1) if
                           n.endswith('H') else (dim, 1, 1, meta),
                           'kernel').reshape(dim, meta), size)
            for n in ('1_H', '1_W', '2_H', '2_W')}
    x1, x2 = x[:, :dim], x[:, dim:]
    t1, t2 = x1, x2
    if use_pe:
        pe = {n: resize_1d(W(f'{name}.meta_pe_{n}', (1, dim, meta, 1) if
                             n.endswith('H') else (1, dim, 1, meta),
                             'bias').reshape(dim, meta), size)
              for n in ('1_H', '1_W', '2_H', '2_W')}
        along_h = {n: v[None, :, :, None] for n, v in pe.items()}
        along_w = {n: v[None, :, None, :] for n, v in pe.items()}
        t1, t2 = t1 + along_h['1_H'], t2 + along_w['1_W']
    t1 = circular(bn(W, f'{name}.pre_Norm_1', t1, dim), kern['1_H'], 2)
    t2 = circular(bn(W, f'{name}.pre_Norm_2', t2, dim), kern['1_W'], 3)
    if use_pe:
        t1, t2 = t1 + along_w['2_W'], t2 + along_h['2_H']
    t1, t2 = circular(t1, kern['2_W'], 3), circular(t2, kern['2_H'], 2)
    y = torch.cat([x1 + t1, x2 + t2], 1)
    f = bn(W, f'{name}.ffn.0', y, 2 * dim)
    f = F.hardswish(conv(W, f'{name}.ffn.1', f, 2 * dim, ffn, 1, bias=True))
    f = conv(W, f'{name}.ffn.4', f, ffn, 2 * dim, 1, bias=True)
    s = f.mean((2, 3), keepdim=True)
    s = conv(W, f'{name}.ca.fc.0', s, 2 * dim, 2 * dim // 16, 1)
    s = F.hardswish(bn(W, f'{name}.ca.fc.1', s, 2 * dim // 16))
    s = conv(W, f'{name}.ca.fc.3', s, 2 * dim // 16, 2 * dim, 1)
    s = torch.clamp(bn(W, f'{name}.ca.fc.4', s, 2 * dim) + 3, 0, 6) / 6
    return y + f * s


def outer_frame(W, name, x, c, d, blocks, meta):
    g = math.gcd(c, d)
    t = conv_layer(W, f'{name}.dim_adaptive.0', x, c, d, 3, groups=g)
    t = conv(W, f'{name}.dim_adaptive.1.block.conv', t, d, d, 1)
    for i in range(blocks):
        t = gcc_block(W, f'{name}.spatial_global_rep.{i}', t, d // 2, meta,
                      2 * d, use_pe=i == 0)
    t = bn(W, f'{name}.spatial_global_rep.{blocks}', t, d)
    t = conv_layer(W, f'{name}.channel_adaptive', t, d, c, 1, groups=g)
    return conv_layer(W, f'{name}.local_global_fusion', torch.cat([t, x], 1),
                      2 * c, c, 3)


def encoder(W, x, prefix='', output_stride=32):
    """EdgeFormer-S end points ``out_l1`` ... ``out_l5``."""
    p = prefix
    x = conv_layer(W, f'{p}conv_1', x, 3, 16, 3, 2)
    out = dict(out_l1=mv2(W, f'{p}layer_1.0', x, 16, 32, 1))
    x = mv2(W, f'{p}layer_2.0', out['out_l1'], 32, 64, 2)
    for i in (1, 2):
        x = mv2(W, f'{p}layer_2.{i}', x, 64, 64, 1)
    out['out_l2'] = x
    cin = 64
    for n, (c, d, blocks, meta) in zip((3, 4, 5), S_STAGES):
        stride = 1 if (n == 5 and output_stride == 16) else 2
        x = mv2(W, f'{p}layer_{n}.0', x, cin, c, stride)
        x = outer_frame(W, f'{p}layer_{n}.1', x, c, d, blocks, meta)
        out[f'out_l{n}'] = x
        cin = c
    return out


def classifier(W, x):
    x = encoder(W, x)['out_l5']
    x = conv_layer(W, 'conv_1x1_exp', x, 160, 640, 1).mean((2, 3))
    return F.linear(x, W('classifier.fc.weight', (1000, 640)),
                    W('classifier.fc.bias', (1000, ), 'bias'))


def add_residual_copies(sd, prefix=''):
    """What ml-cvnets' ``state_dict()`` holds besides: layer_5's MV2 again,
    under ``residual.``."""
    for k in [k for k in sd if k.startswith(f'{prefix}layer_5.0.')]:
        sd[k.replace('layer_5.0.', 'residual.', 1)] = sd[k].clone()
    return sd


# ---------------------------------------------------------------- SSDLite
SSD_PROJ = [512, 256, 256, 128, 128, 64]
SSD_RATIOS = [[2, 3]] * 5 + [[2]]


def sep_conv(W, name, x, cin, cout, stride=1, bias=False, norm=True,
             act='relu'):
    x = conv_layer(W, f'{name}.dw_conv', x, cin, cin, 3, stride, groups=cin,
                   act='none')
    return conv_layer(W, f'{name}.pw_conv', x, cin, cout, 1, bias=bias,
                      norm=norm, act=act)


def ssd_forward(W, x, num_classes=81):
    """(confidences (B, N, classes), locations (B, N, 4), map sizes)."""
    ends = encoder(W, x, 'encoder.')
    maps = [ends['out_l4'], ends['out_l5']]
    y, cin = ends['out_l5'], 160
    for os, cout in zip((64, 128, 256), SSD_PROJ[2:5]):
        y = sep_conv(W, f'extra_layers.os_{os}', y, cin, cout, stride=2)
        maps.append(y)
        cin = cout
    y = conv_layer(W, 'extra_layers.os_-1.1', y.mean((2, 3), keepdim=True),
                   cin, 64, 1, norm=False, act='relu')
    maps.append(y)
    confs, locs = [], []
    for i, (m, proj, ratios) in enumerate(zip(maps, SSD_PROJ, SSD_RATIOS)):
        cin, out = m.shape[1], (2 + 2 * len(ratios)) * (4 + num_classes)
        name = f'ssd_heads.{i}'
        if i < 5:
            if cin != proj:
                m = conv_layer(W, f'{name}.proj_layer', m, cin, proj, 1,
                               act='relu')
            m = sep_conv(W, f'{name}.loc_cls_layer', m, proj, out, bias=True,
                         norm=False, act='none')
        else:
            m = conv_layer(W, f'{name}.loc_cls_layer', m, cin, out, 1,
                           bias=True, norm=False, act='none')
        m = m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, 4 + num_classes)
        locs.append(m[..., :4])
        confs.append(m[..., 4:])
    return (torch.cat(confs, 1), torch.cat(locs, 1),
            [tuple(m.shape[2:]) for m in maps])


def ssd_priors(sizes):
    scales = [0.1 + i * (1.05 - 0.1) / len(sizes)
              for i in range(len(sizes) + 1)]
    priors = []
    for i, (h, w) in enumerate(sizes):
        smin, smax = scales[i], math.sqrt(scales[i] * scales[i + 1])
        for y, x in product(range(h), range(w)):
            cx, cy = (x + 0.5) / w, (y + 0.5) / h
            priors += [[cx, cy, smin, smin], [cx, cy, smax, smax]]
            for r in SSD_RATIOS[i]:
                r = math.sqrt(r)
                priors += [[cx, cy, smin * r, smin / r],
                           [cx, cy, smin / r, smin * r]]
    return torch.tensor(priors, dtype=torch.float).clamp(0, 1)


def ssd_predict(W, x, conf_threshold=0.05, nms_iou=0.5, top_k=200):
    """ml-cvnets' ``predict`` for one image: normalised corner boxes,
    scores and labels (1..80, background 0 excluded), grouped by class."""
    conf, loc, sizes = ssd_forward(W, x)
    priors = ssd_priors(sizes)
    scores = conf[0].softmax(-1)
    ctr = loc[0, :, :2] * 0.1 * priors[:, 2:] + priors[:, :2]
    wh = torch.exp(loc[0, :, 2:] * 0.2) * priors[:, 2:]
    boxes = torch.cat([ctr - wh / 2, ctr + wh / 2], 1)
    out_b, out_s, out_l = [], [], []
    for c in range(1, scores.shape[1]):
        keep = scores[:, c] > conf_threshold
        if keep.any():
            b, s = boxes[keep], scores[keep, c]
            k = nms(b, s, nms_iou)[:top_k]
            out_b.append(b[k])
            out_s.append(s[k])
            out_l += [c] * len(k)
    if not out_b:
        return torch.zeros(0, 4), torch.zeros(0), torch.zeros(0).long()
    return torch.cat(out_b), torch.cat(out_s), torch.tensor(out_l)


# -------------------------------------------------------------- DeepLabv3
def deeplabv3(W, x, num_classes=21, rates=(6, 12, 18)):
    """Logits at the input size (OS16 encoder, ASPP, x16 upsampling)."""
    f = encoder(W, x, 'encoder.', output_stride=16)['out_l5']
    p = 'seg_head.aspp.aspp_layer'
    branches = [conv_layer(W, f'{p}.convs.0', f, 160, 256, 1, act='relu')]
    for i, r in enumerate(rates):
        branches.append(conv_layer(W, f'{p}.convs.{i + 1}', f, 160, 256, 3,
                                   dilation=r, act='relu'))
    pooled = conv_layer(W, f'{p}.convs.4.aspp_pool.conv_1x1',
                        f.mean((2, 3), keepdim=True), 160, 256, 1, act='relu')
    branches.append(pooled.expand(-1, -1, *f.shape[2:]))
    y = conv_layer(W, f'{p}.project', torch.cat(branches, 1), 1280, 256, 1,
                   act='relu')
    y = conv(W, 'seg_head.classifier.classifier.block.conv', y, 256,
             num_classes, 1, bias=True)
    return F.interpolate(y, scale_factor=16, mode='bilinear',
                         align_corners=False)

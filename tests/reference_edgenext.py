"""An independent, functional EdgeNeXt for tests.

It reads weights straight from an official-layout state dict (the authors'
key names) and follows the reference network op by op with
``torch.nn.functional``: channels-first LayerNorm written out by hand,
``torch.split`` by width, the mask/cumsum positional encoding. It shares no
code with the plugin, so agreeing with it means agreeing with the reference.
"""
import math

import torch
import torch.nn.functional as F

ARCHS = {
    'xx_small': ((2, 2, 6, 2), (24, 48, 88, 168), 4),
    'x_small': ((3, 3, 9, 3), (32, 64, 100, 192), 4),
    'small': ((3, 3, 9, 3), (48, 96, 160, 304), 8),
    'base': ((3, 3, 9, 3), (80, 160, 288, 584), 8),
}
KERNELS, SCALES, POS = (3, 5, 7, 9), (2, 2, 3, 4), (False, True, False, False)


def _arch(arch):
    bn = arch.endswith('_bn_hs')
    depths, dims, heads = ARCHS[arch[:-6] if bn else arch]
    return depths, dims, heads, bn


def official_state_dict(arch, num_classes=1000, seed=0):
    """Random weights in the official layout, with layer scales, norms and
    BN statistics far from their initial values."""
    g = torch.Generator().manual_seed(seed)
    depths, dims, heads, bn = _arch(arch)
    sd = {}

    def rand(*shape, scale=0.2, offset=0.):
        return torch.randn(*shape, generator=g) * scale + offset

    def norm(prefix, c):
        sd[prefix + 'weight'] = rand(c, offset=1.)
        sd[prefix + 'bias'] = rand(c)
        if bn:
            sd[prefix + 'running_mean'] = rand(c)
            sd[prefix + 'running_var'] = rand(c).abs() + 0.5
            sd[prefix + 'num_batches_tracked'] = torch.tensor(100)

    def conv(prefix, cout, cin, k, bias):
        sd[prefix + 'weight'] = rand(cout, cin, k, k, scale=0.3)
        if bias:
            sd[prefix + 'bias'] = rand(cout)

    def linear(prefix, cout, cin):
        sd[prefix + 'weight'] = rand(cout, cin, scale=1 / math.sqrt(cin))
        sd[prefix + 'bias'] = rand(cout)

    conv('downsample_layers.0.0.', dims[0], 3, 4, not bn)
    norm('downsample_layers.0.1.', dims[0])
    for i in range(1, 4):
        norm(f'downsample_layers.{i}.0.', dims[i - 1])
        conv(f'downsample_layers.{i}.1.', dims[i], dims[i - 1], 2, not bn)
    for i, (depth, c) in enumerate(zip(depths, dims)):
        for j in range(depth):
            p = f'stages.{i}.{j}.'
            if i > 0 and j == depth - 1:  # the SDTA block
                width = math.ceil(c / SCALES[i])
                for k in range(SCALES[i] - 1):
                    conv(f'{p}convs.{k}.', width, 1, 3, True)
                if POS[i]:
                    conv(p + 'pos_embd.token_projection.', c, 64, 1, True)
                norm(p + 'norm_xca.', c)
                sd[p + 'gamma_xca'] = rand(c, scale=0.5, offset=0.5)
                sd[p + 'xca.temperature'] = rand(heads, 1, 1, offset=1.)
                linear(p + 'xca.qkv.', 3 * c, c)
                linear(p + 'xca.proj.', c, c)
            else:
                conv(p + 'dwconv.', c, 1, KERNELS[i], not bn)
            norm(p + 'norm.', c)
            linear(p + 'pwconv1.', 4 * c, c)
            linear(p + 'pwconv2.', c, 4 * c)
            sd[p + 'gamma'] = rand(c, scale=0.5, offset=0.5)
    norm('norm.', dims[3])
    linear('head.', num_classes, dims[3])
    if bn:  # running statistics as training would leave them
        reference_forward(
            sd, torch.randn(8, 3, 64, 64, generator=g), arch, calibrate=True)
    return sd


def _ln_channels_first(x, w, b):
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + 1e-6)
    return w[:, None, None] * x + b[:, None, None]


def _pos_encoding(sd, p, B, H, W):
    not_mask = torch.ones(B, H, W)
    y = not_mask.cumsum(1)
    x = not_mask.cumsum(2)
    y = y / (y[:, -1:, :] + 1e-6) * 2 * math.pi
    x = x / (x[:, :, -1:] + 1e-6) * 2 * math.pi
    dim_t = torch.arange(32, dtype=torch.float32)
    dim_t = 10000**(2 * (dim_t // 2) / 32)
    px, py = x[..., None] / dim_t, y[..., None] / dim_t
    px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), 4).flatten(3)
    py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), 4).flatten(3)
    pos = torch.cat((py, px), dim=3).permute(0, 3, 1, 2)
    return F.conv2d(pos, sd[p + 'weight'], sd[p + 'bias'])


def _xca(sd, p, x, heads):
    B, N, C = x.shape
    qkv = F.linear(x, sd[p + 'qkv.weight'], sd[p + 'qkv.bias'])
    qkv = qkv.reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    q, k, v = (t.transpose(-2, -1) for t in qkv)
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1)) * sd[p + 'temperature']
    x = (attn.softmax(-1) @ v).permute(0, 3, 1, 2).reshape(B, N, C)
    return F.linear(x, sd[p + 'proj.weight'], sd[p + 'proj.bias'])


def reference_forward(sd, x, arch, features=False, calibrate=False):
    """Logits (or, with ``features=True``, the four raw stage outputs).

    ``calibrate=True`` normalises with batch statistics and stores them as
    the BN running statistics of ``sd``.
    """
    depths, dims, heads, bn = _arch(arch)
    act = F.hardswish if bn else F.gelu

    def map_norm(p, t):
        if bn:
            return F.batch_norm(t, sd[p + 'running_mean'],
                                sd[p + 'running_var'], sd[p + 'weight'],
                                sd[p + 'bias'], calibrate, 1., 1e-5)
        return _ln_channels_first(t, sd[p + 'weight'], sd[p + 'bias'])

    def ln_last(p, t):
        return F.layer_norm(t, (t.shape[-1], ), sd[p + 'weight'],
                            sd[p + 'bias'], 1e-6)

    def mlp(p, t):  # NHWC in, NHWC out
        t = act(F.linear(t, sd[p + 'pwconv1.weight'], sd[p + 'pwconv1.bias']))
        t = F.linear(t, sd[p + 'pwconv2.weight'], sd[p + 'pwconv2.bias'])
        return sd[p + 'gamma'] * t

    stage_outputs = []
    for i in range(4):
        d = f'downsample_layers.{i}.'
        if i == 0:
            x = F.conv2d(x, sd[d + '0.weight'], sd.get(d + '0.bias'), 4)
            x = map_norm(d + '1.', x)
        else:
            x = map_norm(d + '0.', x)
            x = F.conv2d(x, sd[d + '1.weight'], sd.get(d + '1.bias'), 2)
        for j in range(depths[i]):
            p = f'stages.{i}.{j}.'
            inp = x
            if i > 0 and j == depths[i] - 1:
                C = dims[i]
                width = math.ceil(C / SCALES[i])
                spx = torch.split(x, width, 1)
                outs, sp = [], spx[0]
                for k in range(SCALES[i] - 1):
                    if k > 0:
                        sp = sp + spx[k]
                    sp = F.conv2d(sp, sd[f'{p}convs.{k}.weight'],
                                  sd[f'{p}convs.{k}.bias'], padding=1,
                                  groups=width)
                    outs.append(sp)
                x = torch.cat(outs + [spx[SCALES[i] - 1]], 1)
                if bn:
                    x = map_norm(p + 'norm_xca.', x)
                B, _, H, W = x.shape
                t = x.reshape(B, C, H * W).permute(0, 2, 1)
                if POS[i]:
                    pos = _pos_encoding(sd, p + 'pos_embd.token_projection.',
                                        B, H, W)
                    t = t + pos.reshape(B, -1, H * W).permute(0, 2, 1)
                a = t if bn else ln_last(p + 'norm_xca.', t)
                t = t + sd[p + 'gamma_xca'] * _xca(sd, p + 'xca.', a,
                                                   heads)
                t = t.reshape(B, H, W, C)
                if bn:
                    t = map_norm(p + 'norm.', t.permute(0, 3, 1, 2))
                    t = t.permute(0, 2, 3, 1)
                else:
                    t = ln_last(p + 'norm.', t)
            else:
                k = KERNELS[i]
                x = F.conv2d(x, sd[p + 'dwconv.weight'],
                             sd.get(p + 'dwconv.bias'), padding=k // 2,
                             groups=dims[i])
                if bn:
                    t = map_norm(p + 'norm.', x).permute(0, 2, 3, 1)
                else:
                    t = ln_last(p + 'norm.', x.permute(0, 2, 3, 1))
            x = inp + mlp(p, t).permute(0, 3, 1, 2)
        stage_outputs.append(x)
    if features:
        return stage_outputs
    pooled = map_norm('norm.', x).mean((-2, -1)) if bn else ln_last(
        'norm.', x.mean((-2, -1)))
    return F.linear(pooled, sd['head.weight'], sd['head.bias'])

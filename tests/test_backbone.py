"""The backbone's contract: archs, shapes, options and input errors."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import official_fixture, randomize_
from mmengine.registry import DefaultScope
from torch.overrides import TorchFunctionMode

from mmedgenext.models import ARCH_SETTINGS, EdgeNeXt
from mmedgenext.models.layers import LayerNorm2d, SDTAEncoder

# The paper's Table 1 and the authors' README, 1000-class head.
PUBLISHED_PARAMS_M = {
    'xx_small': 1.33, 'x_small': 2.34, 'small': 5.59, 'base': 18.51,
    'xx_small_bn_hs': 1.33, 'x_small_bn_hs': 2.34, 'small_bn_hs': 5.58,
}
EXACT_PARAMS = {'xx_small': 1_327_216, 'small': 5_586_832}


def classifier_params(arch):
    backbone = EdgeNeXt(arch, out_indices=(3, ), gap_before_final_norm=True)
    head = nn.Linear(backbone.channels[-1], 1000)
    return sum(p.numel() for m in (backbone, head) for p in m.parameters())


@pytest.mark.parametrize('arch', list(ARCH_SETTINGS))
def test_parameter_count_matches_reference(arch):
    count = classifier_params(arch)
    # The authors' model's parameters (their state_dict less BN buffers).
    reference = sum(math.prod(shape) for name, shape, _ in
                    official_fixture(arch)['layout']
                    if not name.endswith(('running_mean', 'running_var',
                                          'num_batches_tracked')))
    assert count == reference
    assert round(count / 1e6, 2) == PUBLISHED_PARAMS_M[arch]
    if arch in EXACT_PARAMS:
        assert count == EXACT_PARAMS[arch]


def test_unknown_arch_lists_valid_names():
    with pytest.raises(ValueError, match='xx_small, x_small, small, base'):
        EdgeNeXt('tiny')
    with pytest.raises(ValueError, match='missing'):
        EdgeNeXt(dict(depths=(1, 1, 1, 1)))
    with pytest.raises(ValueError, match='4 entries'):
        EdgeNeXt(dict(depths=(1, 1, 1), channels=(8, 16, 24),
                      num_heads=2))


def test_custom_arch():
    arch = dict(depths=(1, 1, 2, 1), channels=(16, 32, 48, 64),
                num_heads=(2, 2, 4, 4), norm_cfg=dict(type='BN'),
                act_cfg=dict(type='HSwish'))
    model = EdgeNeXt(arch).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32, 48, 64]
    with pytest.raises(ValueError, match='split'):
        EdgeNeXt(dict(arch, d2_scales=(2, 1, 3, 4)))


@pytest.mark.parametrize('size,expected', [
    ((256, 256), [(64, 64), (32, 32), (16, 16), (8, 8)]),
    ((320, 320), [(80, 80), (40, 40), (20, 20), (10, 10)]),
    ((511, 383), [(127, 95), (63, 47), (31, 23), (15, 11)]),
    ((32, 45), [(8, 11), (4, 5), (2, 2), (1, 1)]),
])
def test_output_sizes(size, expected):
    model = EdgeNeXt('xx_small').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert [tuple(o.shape[2:]) for o in outs] == expected
    assert [o.shape[1] for o in outs] == [24, 48, 88, 168]
    assert all(o.is_contiguous() for o in outs)


def test_out_indices():
    model = EdgeNeXt('xx_small', out_indices=(1, -1)).eval()
    assert model.out_indices == (1, 3)
    assert not hasattr(model, 'norm0') and hasattr(model, 'norm3')
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [48, 168]
    for bad in [(4, ), (-5, ), ()]:
        with pytest.raises(ValueError, match='out_indices'):
            EdgeNeXt('xx_small', out_indices=bad)


@pytest.mark.parametrize('arch', ['xx_small', 'xx_small_bn_hs'])
def test_pooled_output(arch):
    model = EdgeNeXt(arch, out_indices=(3, ), gap_before_final_norm=True)
    (out, ) = model.eval()(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 168)


def test_bad_inputs_raise_clear_errors():
    model = EdgeNeXt('xx_small')
    with pytest.raises(ValueError,
                       match=r'expects \(N, 3, H, W\).*\(1, 1, 64'):
        model(torch.randn(1, 1, 64, 64))
    with pytest.raises(ValueError, match='expects'):
        model(torch.randn(3, 64, 64))
    with pytest.raises(ValueError, match='at least 32x32'):
        model(torch.randn(1, 3, 16, 64))
    gray = EdgeNeXt('xx_small', in_channels=1).eval()
    assert gray(torch.randn(1, 1, 64, 64))[0].shape == (1, 24, 16, 16)


def _frozen_modules(model, k):
    modules = [model.downsample_layers[0]]
    for i in range(k):
        modules += [model.downsample_layers[i], model.stages[i],
                    getattr(model, f'norm{i}')]
    return modules


@pytest.mark.parametrize('frozen', [0, 2, 4])
def test_frozen_stages(frozen):
    model = EdgeNeXt('xx_small_bn_hs', frozen_stages=frozen)
    model.train()
    frozen_modules = _frozen_modules(model, frozen)
    frozen_params = {id(p) for m in frozen_modules for p in m.parameters()}
    for m in frozen_modules:
        assert not m.training
    for p in model.parameters():
        assert p.requires_grad == (id(p) not in frozen_params)
    if frozen < 4:
        assert model.stages[frozen].training
    with pytest.raises(ValueError, match='frozen_stages'):
        EdgeNeXt('xx_small', frozen_stages=5)


def test_norm_eval_keeps_batchnorm_statistics():
    model = EdgeNeXt('xx_small_bn_hs', norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    before = [m.running_mean.clone() for m in bns]
    model(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(b, m.running_mean) for b, m in zip(before, bns))
    assert model.stages[0][0].pwconv1.training  # only norms are frozen


def test_with_cp_gives_same_outputs_and_gradients(rand_input):
    ref = randomize_(EdgeNeXt('xx_small'))
    cp = EdgeNeXt('xx_small', with_cp=True)
    cp.load_state_dict(ref.state_dict())
    grads = []
    for model in (ref, cp):
        x = rand_input.clone().requires_grad_()
        outs = model(x)
        sum(o.square().mean() for o in outs).backward()
        grads.append((outs, x.grad,
                      [p.grad.clone() for p in model.parameters()]))
    (o1, gx1, gp1), (o2, gx2, gp2) = grads
    for a, b in zip(o1, o2):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(gx1, gx2)
    for a, b in zip(gp1, gp2):
        torch.testing.assert_close(a, b)


def test_drop_path():
    model = EdgeNeXt('xx_small', drop_path_rate=0.3)
    rates = [b.drop_path.drop_prob for s in model.stages for b in s
             if not isinstance(b.drop_path, nn.Identity)]
    assert len(rates) == 11 and abs(rates[-1] - 0.3) < 1e-6
    assert rates == sorted(rates)
    x = torch.randn(4, 3, 64, 64)
    torch.manual_seed(0)
    a = model.train()(x)[-1]
    b = model(x)[-1]
    assert not torch.allclose(a, b)  # stochastic while training
    model.eval()
    torch.testing.assert_close(model(x)[-1], model(x)[-1])


def _layer_types(model):
    return {type(m) for m in model.modules()}


def test_variants_default_to_their_norm_and_activation():
    ln, bn = EdgeNeXt('xx_small'), EdgeNeXt('xx_small_bn_hs')
    assert {LayerNorm2d, nn.GELU} <= _layer_types(ln)
    assert not {nn.BatchNorm2d, nn.Hardswish} & _layer_types(ln)
    assert {nn.BatchNorm2d, nn.Hardswish} <= _layer_types(bn)
    assert not {LayerNorm2d, nn.GELU} & _layer_types(bn)
    # The BN family's structure, as the reference: no conv biases.
    assert ln.stages[0][0].dwconv.bias is not None
    assert bn.stages[0][0].dwconv.bias is None
    assert bn.downsample_layers[0][0].bias is None


def test_norm_and_activation_are_injected():
    """BatchNorm with GELU (no published variant) builds and runs, with the
    BN family's structure; the activation alone can be swapped too."""
    arch = dict(depths=(1, 1, 2, 1), channels=(16, 32, 48, 64), num_heads=2)
    model = EdgeNeXt(arch, norm_cfg=dict(type='BN'),
                     act_cfg=dict(type='GELU')).eval()
    assert {nn.BatchNorm2d, nn.GELU} <= _layer_types(model)
    assert not {LayerNorm2d, nn.Hardswish} & _layer_types(model)
    assert model.stages[0][0].dwconv.bias is None
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32, 48, 64]
    hs = EdgeNeXt('xx_small', act_cfg=dict(type='HSwish'))
    assert {LayerNorm2d, nn.Hardswish} <= _layer_types(hs)
    assert nn.GELU not in _layer_types(hs)
    assert hs.stages[2][0].norm.eps == 1e-6
    # 'LN2d' is the plugin's whatever scope a config is built under.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        assert type(EdgeNeXt('xx_small').norm3) is LayerNorm2d


def test_bad_norm_cfg_raises_clear_errors():
    with pytest.raises(ValueError, match="Unknown norm_cfg type 'Foo'"):
        EdgeNeXt('xx_small', norm_cfg=dict(type='Foo'))
    with pytest.raises(ValueError, match='LN2d'):  # channels-last LN
        EdgeNeXt('xx_small', norm_cfg=dict(type='LN'))
    with pytest.raises(ValueError, match='norm_cfg and act_cfg'):
        EdgeNeXt(dict(depths=(1, 1, 1, 1), channels=(8, 16, 24, 32),
                      num_heads=2, norm_type='BN'))


class _CountOneByOneConvs(TorchFunctionMode):
    """Counts the 1x1 convs a forward runs."""
    count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.conv2d and args[1].shape[-2:] == (1, 1):
            self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('arch', ['xx_small', 'xx_small_bn_hs'])
def test_deploy_form_runs_gemms_only_in_eager_inference(arch):
    """The deploy form runs its blocks' 1x1 convs as GEMMs on the
    channels-last maps (activation in place, residual add as the
    accumulator) at eager CPU inference; with gradients on, under autocast,
    in a traced graph and in the benchmark's baseline (convs_only), the 1x1
    convs themselves run. Both give the same maps."""
    from mmedgenext.models.layers.cpu_gemm import convs_only
    model = randomize_(EdgeNeXt(arch)).eval()
    model.switch_to_deploy()
    x = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(0))
    # Two in each block's MLP, two in each SDTA block's attention.
    one_by_one = sum(len(stage) for stage in model.stages) * 2 + 3 * 2
    with torch.no_grad(), _CountOneByOneConvs() as gemm_run:
        eager = model(x)
    with _CountOneByOneConvs() as conv_run:
        convs = model(x)
    assert conv_run.count - gemm_run.count == one_by_one
    for a, b in zip(eager, convs):
        torch.testing.assert_close(a, b.detach(), atol=1e-4, rtol=0)
    with torch.no_grad(), _CountOneByOneConvs() as traced:
        graph = str(torch.jit.trace(model, x, check_trace=False).inlined_graph)
    assert traced.count == conv_run.count
    assert 'addmm' not in graph and 'gelu_' not in graph
    with torch.no_grad(), convs_only(), _CountOneByOneConvs() as baseline:
        torch.testing.assert_close(model(x), eager, atol=1e-4, rtol=0)
    assert baseline.count == conv_run.count
    with torch.no_grad(), torch.autocast('cpu', torch.bfloat16), \
            _CountOneByOneConvs() as autocast:
        model(x)
    assert autocast.count == conv_run.count


@pytest.mark.parametrize('output_stride,sizes', [
    (16, [(24, 20), (12, 10), (6, 5), (6, 5)]),
    (8, [(24, 20), (12, 10), (12, 10), (12, 10)]),
])
def test_output_stride_keeps_resolution(output_stride, sizes):
    model = EdgeNeXt('xx_small_bn_hs', output_stride=output_stride).eval()
    outs = model(torch.randn(1, 3, 96, 80))
    assert [tuple(o.shape[2:]) for o in outs] == sizes
    with pytest.raises(ValueError, match='output_stride'):
        EdgeNeXt('xx_small', output_stride=4)


def test_dilated_backbone_takes_the_same_weights():
    ref = EdgeNeXt('x_small')
    for output_stride in (16, 8):
        dilated = EdgeNeXt('x_small', output_stride=output_stride)
        assert {k: v.shape for k, v in dilated.state_dict().items()} == {
            k: v.shape for k, v in ref.state_dict().items()}


@pytest.mark.parametrize('output_stride', [16, 8])
def test_dilation_is_the_atrous_equivalent_of_striding(output_stride):
    """Without SDTA blocks (whose attention sees every token) the dilated
    network, sampled every 32/output_stride pixels, is the published one
    (exactly so where every stage's size is even, as for 128x96)."""
    arch = dict(depths=(1, 1, 2, 2), channels=(8, 16, 24, 32), num_heads=2,
                global_blocks=(0, 0, 0, 0))
    ref = randomize_(EdgeNeXt(arch)).eval()
    dilated = EdgeNeXt(arch, output_stride=output_stride).eval()
    dilated.load_state_dict(ref.state_dict())
    x = torch.randn(1, 3, 128, 96)
    with torch.no_grad():
        expected, got = ref(x), dilated(x)
    for i, (a, b) in enumerate(zip(expected, got)):
        step = b.shape[-2] // a.shape[-2]
        torch.testing.assert_close(b[..., ::step, ::step], a, atol=1e-4,
                                   rtol=0)


def nearest_up(x, d):
    """Each pixel of ``x`` repeated over a ``d x d`` block."""
    return x.repeat_interleave(d, 2).repeat_interleave(d, 3)


@pytest.mark.parametrize('arch', ['xx_small', 'xx_small_bn_hs'])
@pytest.mark.parametrize('output_stride,dilations', [(16, {3: 2}),
                                                     (8, {2: 2, 3: 4})])
def test_dilated_stages_with_sdta_are_the_atrous_form(arch, output_stride,
                                                      dilations):
    """Each stage past the output stride, its SDTA block included, computes
    the published stage on every ``d x d`` phase of its map: given the
    strided stage's input with each pixel repeated over a ``d x d`` block,
    it returns the strided stage's output repeated likewise. The dilated
    depthwise and split convs read the same neighbours as the strided ones;
    the attention sees every token, but its queries and keys are
    L2-normalised over the tokens, so the d^2 copies of each cancel. (The
    test above holds the dilated downsampling layers, whose outputs differ
    between phases; with an attention over all tokens, the whole network
    equals the strided one only where the phases agree.) In float64, so the
    comparison holds to rounding on any CPU."""
    ref = randomize_(EdgeNeXt(arch)).eval().double()
    dilated = EdgeNeXt(arch, output_stride=output_stride).eval().double()
    dilated.load_state_dict(ref.state_dict())
    g = torch.Generator().manual_seed(0)
    for i, d in dilations.items():
        assert any(isinstance(b, SDTAEncoder) for b in dilated.stages[i])
        x = torch.randn(1, ref.channels[i], 6, 5, generator=g,
                        dtype=torch.float64)
        with torch.no_grad():
            expected = nearest_up(ref.stages[i](x), d)
            got = dilated.stages[i](nearest_up(x, d).contiguous(
                memory_format=torch.channels_last))
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


def test_convs_only_nests():
    """Leaving an inner convs_only() keeps the outer one's 1x1 convs;
    leaving the outer one brings the GEMM path back."""
    from mmedgenext.models.layers.cpu_gemm import convs_only, runs_as_gemms
    x = torch.zeros(1)
    with torch.no_grad():
        assert runs_as_gemms(x)
        with convs_only():
            with convs_only():
                assert not runs_as_gemms(x)
            assert not runs_as_gemms(x)
        assert runs_as_gemms(x)

"""EdgeFormer backbone and the ml-cvnets classifier: sizes, arguments, and
numerical agreement with the functional reference on random weights saved as
the authors release them (bare ml-cvnets state dicts)."""
import os
import subprocess
import sys

import pytest
import reference_edgeformer as R
import torch

from mmedgenext.models import EdgeFormer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def assert_close_to_range(out, ref):
    """Relative error <= 1e-4 of the output's range."""
    err = (out - ref).abs().max().item()
    assert err <= 1e-4 * (ref.max() - ref.min()).item(), err


@pytest.fixture(scope='module')
def released_cls(tmp_path_factory):
    """Random EdgeFormer-S classifier weights as a released file (with the
    ``residual.*`` copies), and the reference logits at 128x128."""
    W = R.Weights(seed=0)
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = R.classifier(W, x)
    path = str(tmp_path_factory.mktemp('cls') / 'checkpoint_ema_avg.pt')
    torch.save(R.add_residual_copies(dict(W.sd)), path)
    return path, x, logits


def test_param_counts():
    assert n_params(EdgeFormer('s', final_conv=True)) + 640 * 1000 + 1000 \
        == 5_037_088
    assert n_params(EdgeFormer('s')) == 4_292_408


@pytest.mark.parametrize('arch,stem', [('xs', 16), ('s', 16), ('h', 48)])
def test_five_stages_at_strides_2_to_32(arch, stem):
    m = EdgeFormer(arch, out_indices=(0, 1, 2, 3, 4)).eval()
    with torch.no_grad():
        outs = m(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == list(m.channels)
    assert [o.shape[2] for o in outs] == [32, 16, 8, 4, 2]
    assert m.conv_1.block.conv.out_channels == stem


@pytest.mark.parametrize('output_stride,sizes', [(16, [8, 4, 4]),
                                                 (8, [8, 8, 8])])
def test_output_stride(output_stride, sizes):
    m = EdgeFormer(out_indices=(2, 3, 4), output_stride=output_stride).eval()
    with torch.no_grad():
        outs = m(torch.rand(1, 3, 64, 64))
    assert [o.shape[2] for o in outs] == sizes
    # the authors dilate nothing at 16, layer_5's MV2 at 8
    dil = m.layer_5[0].block.conv_3x3.block.conv.dilation
    assert dil == ((1, 1) if output_stride == 16 else (2, 2))


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="Unknown EdgeFormer arch 'm'"):
        EdgeFormer('m')
    with pytest.raises(ValueError, match='out_indices'):
        EdgeFormer(out_indices=(5, ))
    with pytest.raises(ValueError, match='output_stride'):
        EdgeFormer(output_stride=4)
    with pytest.raises(ValueError, match='square inputs.*64x96'):
        EdgeFormer()(torch.rand(1, 3, 64, 96))
    with pytest.raises(ValueError, match='square inputs'):  # ONNX, FLOPs
        torch.jit.trace(EdgeFormer(), torch.rand(1, 3, 64, 96))


def test_frozen_stages_norm_eval_and_with_cp():
    m = EdgeFormer(out_indices=(0, 4), frozen_stages=2, norm_eval=True)
    m.train()
    for name, p in m.named_parameters():
        assert p.requires_grad == (not name.startswith(
            ('conv_1.', 'layer_1.', 'layer_2.'))), name
    assert not any(b.training for b in m.modules()
                   if isinstance(b, torch.nn.BatchNorm2d))
    x = torch.rand(2, 3, 64, 64)
    plain = EdgeFormer(out_indices=(4, ), dropout=0.)
    cp = EdgeFormer(out_indices=(4, ), dropout=0., with_cp=True)
    cp.load_state_dict(plain.state_dict())
    a, b = plain(x.requires_grad_())[0], cp(x)[0]
    torch.testing.assert_close(a, b)
    b.sum().backward()
    assert cp.layer_5[1].spatial_global_rep[0].meta_kernel_1_H.grad is not None


def test_classifier_matches_reference_through_the_runner_loader(
        released_cls):
    """The released file given to load_from / tools/test.py (mmengine's
    checkpoint loader) fills the mmpretrain classifier strictly."""
    from mmedgenext.apis import build_model, load_config
    path, x, logits = released_cls
    model = build_model(load_config(
        os.path.join(ROOT, 'configs', 'edgeformer_s_in1k.py')), path)
    assert n_params(model) == 5_037_088
    with torch.no_grad():
        out = model(x, mode='tensor')
    assert_close_to_range(out, logits)


def test_backbone_init_cfg_reads_the_released_file(released_cls):
    path, x, _ = released_cls
    m = EdgeFormer(out_indices=(0, 1, 2, 3, 4), init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'))
    m.init_weights()
    W = R.Weights(torch.load(path))
    with torch.no_grad():
        ref = R.encoder(W, x)
        outs = m.eval()(x)
    for i, out in enumerate(outs):
        assert_close_to_range(out, ref[f'out_l{i + 1}'])


def test_inconsistent_residual_copy_is_refused(released_cls, tmp_path):
    from mmedgenext.checkpoint.cvnets import convert_cvnets_state_dict
    sd = torch.load(released_cls[0])
    sd['residual.block.red_1x1.block.conv.weight'] += 1
    with pytest.raises(ValueError, match='differs from layer_5.0'):
        convert_cvnets_state_dict(sd)


@pytest.mark.slow
def test_convert_tool_writes_a_strictly_loadable_classifier(
        released_cls, tmp_path):
    dst = tmp_path / 'mm.pth'
    out = subprocess.run(
        [sys.executable, 'tools/convert_checkpoint.py', released_cls[0],
         str(dst), '--config', 'configs/edgeformer_s_in1k.py'],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'ml-cvnets EdgeFormer classification' in out
    assert 'loads strictly' in out
    state = torch.load(dst)['state_dict']
    assert 'head.fc.weight' in state
    assert not any('residual' in k for k in state)


@pytest.mark.slow
def test_convert_tool_names_the_config_a_file_needs(released_cls, tmp_path):
    out = subprocess.run(
        [sys.executable, 'tools/convert_checkpoint.py', released_cls[0],
         str(tmp_path / 'mm.pth'), '--config',
         'configs/ssdlite_edgeformer_s_coco.py'],
        cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == (
        'error: an ml-cvnets classification file does not fit '
        'configs/ssdlite_edgeformer_s_coco.py (mmdet); give a mmpretrain '
        'config, e.g. --config configs/edgeformer_s_in1k.py')

"""EdgeFormer backbone and the ml-cvnets classifier: sizes, arguments, and
agreement with the authors' own EdgeFormer-S (ParC-Net) on seeded weights
saved as their model saves them (a bare state dict with their key names),
loaded through the plugin's real entry points."""
import subprocess
import sys

import pytest
import torch
from helpers import (ROOT, assert_close_to_range, authors_state_dict, cfg_path,
                     edgeformer_reference)

from mmedgenext.models import EdgeFormer


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def noise(*shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope='module')
def authors_cls(tmp_path_factory):
    """The authors' classifier weights as their ``state_dict()`` saves them
    (with the ``residual.*`` copies) in a file, and what it computed."""
    reference = edgeformer_reference('classification')
    path = str(tmp_path_factory.mktemp('cls') / 'checkpoint_ema_avg.pt')
    torch.save(authors_state_dict(reference), path)
    return path, reference


def as_input(images):
    """The authors' input: uint8 BGR (N, H, W, 3) images / 255."""
    return images.permute(0, 3, 1, 2).float() / 255


def test_param_counts():
    assert n_params(EdgeFormer('s', final_conv=True)) + 640 * 1000 + 1000 \
        == 5_037_088
    assert n_params(EdgeFormer('s')) == 4_292_408


@pytest.mark.parametrize('arch,stem', [('xs', 16), ('s', 16), ('h', 48)])
def test_five_stages_at_strides_2_to_32(arch, stem):
    m = EdgeFormer(arch, out_indices=(0, 1, 2, 3, 4)).eval()
    with torch.no_grad():
        outs = m(noise(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == list(m.channels)
    assert [o.shape[2] for o in outs] == [32, 16, 8, 4, 2]
    assert m.conv_1.block.conv.out_channels == stem


@pytest.mark.parametrize('output_stride,sizes', [(16, [8, 4, 4]),
                                                 (8, [8, 8, 8])])
def test_output_stride(output_stride, sizes):
    m = EdgeFormer(out_indices=(2, 3, 4), output_stride=output_stride).eval()
    with torch.no_grad():
        outs = m(noise(1, 3, 64, 64))
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
        EdgeFormer()(noise(1, 3, 64, 96))
    with pytest.raises(ValueError, match='square inputs'):  # ONNX, FLOPs
        torch.jit.trace(EdgeFormer(), noise(1, 3, 64, 96))


def test_frozen_stages_norm_eval_and_with_cp():
    m = EdgeFormer(out_indices=(0, 4), frozen_stages=2, norm_eval=True)
    m.train()
    for name, p in m.named_parameters():
        assert p.requires_grad == (not name.startswith(
            ('conv_1.', 'layer_1.', 'layer_2.'))), name
    assert not any(b.training for b in m.modules()
                   if isinstance(b, torch.nn.BatchNorm2d))
    x = noise(2, 3, 64, 64)
    plain = EdgeFormer(out_indices=(4, ), dropout=0.)
    cp = EdgeFormer(out_indices=(4, ), dropout=0., with_cp=True)
    cp.load_state_dict(plain.state_dict())
    a, b = plain(x.requires_grad_())[0], cp(x)[0]
    torch.testing.assert_close(a, b)
    b.sum().backward()
    assert cp.layer_5[1].spatial_global_rep[0].meta_kernel_1_H.grad is not None


@pytest.mark.parametrize('size', [
    128,  # meta kernels / embeddings interpolated from 32/16/8 to 16/8/4
    pytest.param(256, marks=pytest.mark.slow),  # their size: exact copies
])
def test_classifier_matches_the_authors_through_the_runner_loader(
        authors_cls, size):
    """Their file given to load_from / tools/test.py (mmengine's checkpoint
    loader) fills the mmpretrain classifier strictly; their images go
    through the config's data preprocessor; the logits are theirs."""
    from mmedgenext.apis import build_model, load_config
    path, reference = authors_cls
    model = build_model(load_config(cfg_path('edgeformer_s_in1k.py')), path)
    assert n_params(model) == 5_037_088
    images = reference[f'images_{size}']
    x = model.data_preprocessor(
        dict(inputs=list(images.permute(0, 3, 1, 2))))['inputs']
    torch.testing.assert_close(x, as_input(images), rtol=0, atol=0)
    with torch.no_grad():
        out = model(x, mode='tensor')
    assert_close_to_range(out, reference[f'logits_{size}'])


def test_backbone_init_cfg_reads_the_authors_file(authors_cls):
    path, reference = authors_cls
    m = EdgeFormer(out_indices=(2, 3, 4), init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'))
    m.init_weights()
    with torch.no_grad():
        outs = m.eval()(as_input(reference['images_128'][:1]))
    for out, name in zip(outs, ('out_l3', 'out_l4', 'out_l5')):
        assert_close_to_range(out[0], reference['stages_128'][name])


def test_inconsistent_residual_copy_is_refused(authors_cls):
    from mmedgenext.checkpoint.cvnets import convert_cvnets_state_dict
    sd = torch.load(authors_cls[0])
    sd['residual.block.red_1x1.block.conv.weight'] += 1
    with pytest.raises(ValueError, match='differs from layer_5.0'):
        convert_cvnets_state_dict(sd)


@pytest.mark.slow
def test_convert_tool_writes_a_strictly_loadable_classifier(
        authors_cls, tmp_path):
    dst = tmp_path / 'mm.pth'
    out = subprocess.run(
        [sys.executable, 'tools/convert_checkpoint.py', authors_cls[0],
         str(dst), '--config', 'configs/edgeformer_s_in1k.py'],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'ml-cvnets EdgeFormer classification' in out
    assert 'loads strictly' in out
    state = torch.load(dst)['state_dict']
    assert 'head.fc.weight' in state
    assert not any('residual' in k for k in state)
    # the converted file computes what the authors' model computed
    from mmedgenext.apis import build_model, load_config
    model = build_model(load_config(cfg_path('edgeformer_s_in1k.py')),
                        str(dst))
    reference = authors_cls[1]
    with torch.no_grad():
        out = model(as_input(reference['images_128']), mode='tensor')
    assert_close_to_range(out, reference['logits_128'])


@pytest.mark.slow
def test_convert_tool_names_the_config_a_file_needs(authors_cls, tmp_path):
    out = subprocess.run(
        [sys.executable, 'tools/convert_checkpoint.py', authors_cls[0],
         str(tmp_path / 'mm.pth'), '--config',
         'configs/ssdlite_edgeformer_s_coco.py'],
        cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == (
        'error: an ml-cvnets classification file does not fit '
        'configs/ssdlite_edgeformer_s_coco.py (mmdet); give a mmpretrain '
        'config, e.g. --config configs/edgeformer_s_in1k.py')

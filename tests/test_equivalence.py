"""The port against the EdgeNeXt authors' own models, and the checkpoint
layouts against the converters timm and mmpretrain ship.

The evidence is tests/fixtures/edgenext_official/: for each released variant,
the authors' key layout and what their model computed with seeded weights on
a seeded 2x3x64x96 batch (made by make_edgenext_official.py from
github.com/mmaaz60/EdgeNeXt), and the key names mmpretrain's own converter
gives them (make_edgenext_mmpretrain_keys.py). Each weight file below is
written in a released layout and read through one of the plugin's entry
points: a classifier config's loader (``build_model``, mmengine's
``load_checkpoint`` as ``load_from`` and tools/test.py use it), the
backbone's ``init_cfg`` Pretrained, or tools/convert_checkpoint.py.

Each comparison allows a fraction of the largest reference value. The
fixtures were computed in float64 and stored in float32 (a rounding of at
most 6e-8 of that value), so the port, run in float64, is held to
``FLOAT64_TOL`` = 5e-7: eight times that rounding, and below what a
misread constant changes (a LayerNorm eps of 1e-5 for the authors' 1e-6
moves the outputs by 2e-5 in every norm, by 9e-7 to 2e-6 in the SDTA
blocks' norms alone, as mmpretrain builds them). The route users take,
float32, is checked too, at ``FLOAT32_TOL`` = 1e-5: float32 arithmetic
alone moves the logits and features by up to 7e-7 (seven variants, torch
2.14 and 2.1). Models that only run in float32 (mmpretrain's, the
functional reference: float32 Fourier features) are held to that too.
"""
import json
import os
import runpy
import sys

import pytest
import timm
import torch
import torch.nn.functional as F
from helpers import (OFFICIAL_VARIANTS, ROOT, cfg_path, official_fixture,
                     official_input, official_weights, save_official)
from reference_edgenext import reference_forward

from mmedgenext.apis import build_model, load_config
from mmedgenext.models import EdgeNeXt

# The smallest variant of each family runs in the fast subset; the others
# are marked slow (drawing and loading their 2.3M-18.5M weights and building
# their models takes seconds).
FAST = ('xx_small', 'xx_small_bn_hs')
FLOAT64_TOL, FLOAT32_TOL = 5e-7, 1e-5


def assert_matches(ours, reference):
    """``ours`` equals ``reference`` within the tolerance of ``ours``'s
    dtype (of the largest reference value)."""
    tol = FLOAT64_TOL if ours.dtype == torch.float64 else FLOAT32_TOL
    reference = reference.to(ours.dtype)
    torch.testing.assert_close(ours, reference, rtol=0,
                               atol=tol * float(reference.abs().max()))


def by_size(*params):
    """``pytest.param``s, marked slow unless their first item (the
    variant) is in ``FAST``."""
    return [pytest.param(*p, marks=[pytest.mark.slow] * (p[0] not in FAST))
            for p in params]


def classifier(arch, checkpoint):
    """The variant's ImageNet config's model with ``checkpoint`` loaded
    strictly, as tools/test.py and the deploy tools build it."""
    return build_model(load_config(cfg_path(f'edgenext_{arch}_in1k.py')),
                       checkpoint)


def logits_of(model, images):
    with torch.no_grad():
        return model(images, mode='tensor')


def convert_tool(src, dst, monkeypatch):
    """tools/convert_checkpoint.py SRC DST, in this process."""
    monkeypatch.setattr(sys, 'argv', ['convert_checkpoint.py', src, dst])
    runpy.run_path(os.path.join(ROOT, 'tools', 'convert_checkpoint.py'),
                   run_name='__main__')
    return dst


# Each variant's official file reaches a classifier one way: the config's
# loader (mmengine's load_checkpoint, as load_from and tools/test.py), or
# tools/convert_checkpoint.py first; both ways cover both families.
ROUTES = by_size(('xx_small', 'load_from'), ('x_small', 'convert_tool'),
                 ('small', 'load_from'), ('base', 'convert_tool'),
                 ('xx_small_bn_hs', 'convert_tool'),
                 ('x_small_bn_hs', 'load_from'),
                 ('small_bn_hs', 'convert_tool'))


@pytest.mark.parametrize('arch,route', ROUTES)
def test_official_file_gives_the_authors_features_and_logits(
        arch, route, tmp_path, monkeypatch):
    fixture = official_fixture(arch)
    _, path = save_official(tmp_path, arch)
    if route == 'convert_tool':
        path = convert_tool(path, str(tmp_path / 'converted.pth'),
                            monkeypatch)
    model = classifier(arch, path)
    for dtype in (torch.float32, torch.float64):
        images = official_input(arch).to(dtype)
        model.to(dtype)
        with torch.no_grad():
            (features, ) = model.extract_feat(images)
        # What the authors' forward_features returns: for the BN family the
        # normalised map pooled, for the LN family the pooled map
        # normalised.
        assert_matches(features, fixture['features'])
        assert_matches(logits_of(model, images), fixture['logits'])


def expected_maps(fixture, model):
    """The backbone's four maps from the authors' stage outputs, each
    through its output norm: norm0-2 are new (for dense tasks) and applied
    as initialised, with the authors' eps (LayerNorm 1e-6, BatchNorm2d's
    1e-5); norm3 is the authors' final norm, on the map."""
    weights = official_weights(fixture['variant'])
    maps = []
    for i, stage in enumerate(fixture['stages']):
        stage = stage.double()
        norm = getattr(model, f'norm{i}')
        if model.batch_norm:
            maps.append(fixture['final_norm'] if i == 3 else F.batch_norm(
                stage, norm.running_mean, norm.running_var, norm.weight,
                norm.bias, False, 0., 1e-5))
            continue
        weight, bias = (weights['norm.weight'], weights['norm.bias']) \
            if i == 3 else (norm.weight, norm.bias)
        maps.append(F.layer_norm(
            stage.permute(0, 2, 3, 1), stage.shape[1:2], weight.double(),
            bias.double(), 1e-6).permute(0, 3, 1, 2))
    return maps


@pytest.mark.parametrize('arch', by_size(*zip(OFFICIAL_VARIANTS)))
def test_backbone_pretrained_gives_the_authors_stage_maps(arch, tmp_path):
    fixture = official_fixture(arch)
    _, path = save_official(tmp_path, arch)
    model = EdgeNeXt(arch, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    model.eval().double()
    with torch.no_grad():
        ours = model(official_input(arch).double())
        expected = expected_maps(fixture, model)
    for i, (a, b) in enumerate(zip(ours, expected)):
        assert a.shape == b.shape, i
        assert_matches(a, b)


@pytest.mark.parametrize('arch', by_size(('xx_small', ), ('small', )))
def test_timm_layout_from_timm_filter(arch, tmp_path):
    """timm's own ``checkpoint_filter_fn`` renames the authors' file for
    timm's model, which then computes the authors' logits; the plugin reads
    that timm-layout file to the same logits."""
    from timm.models.edgenext import checkpoint_filter_fn
    fixture, images = official_fixture(arch), official_input(arch).double()
    reference = timm.create_model(f'edgenext_{arch}').eval()
    converted = checkpoint_filter_fn(dict(model=official_weights(arch)),
                                     reference)
    reference.load_state_dict(converted, strict=True)
    with torch.no_grad():
        assert_matches(reference.double()(images), fixture['logits'])
    path = tmp_path / 'timm.pth'
    torch.save(converted, path)
    model = classifier(arch, str(path)).double()
    assert_matches(logits_of(model, images), fixture['logits'])


def mmpretrain_keys():
    path = os.path.join(ROOT, 'tests', 'fixtures', 'edgenext_official',
                        'mmpretrain_keys.json')
    with open(path) as f:
        return json.load(f)['keys']


@pytest.mark.parametrize('arch', by_size(('xx_small', ), ('x_small', )))
def test_mmpretrain_layout_from_mmpretrain_converter(arch, tmp_path):
    """The authors' weights under the names mmpretrain's converter gives
    them: mmpretrain's own EdgeNeXt computes the authors' logits from them,
    and the plugin reads that file (backbone ``init_cfg``) to the authors'
    pooled features."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    fixture, images = official_fixture(arch), official_input(arch)
    keys = mmpretrain_keys()
    state = {keys[k]: v for k, v in official_weights(arch).items()}
    init_default_scope('mmpretrain')
    reference = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='EdgeNeXt', arch=arch.replace('_', ''),
                      gap_before_final_norm=True),
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=fixture['features'].shape[1])))
    # mmpretrain builds the SDTA norms and the pooled-feature norm with
    # LayerNorm's default eps 1e-5 where the authors use 1e-6 (the logits
    # move by about 3e-6 of their range); align it to compare the weights.
    # (It runs in float32 only: its Fourier features are float32.)
    for module in reference.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.eps = 1e-6
    reference.load_state_dict(state, strict=True)
    assert_matches(logits_of(reference.eval(), images), fixture['logits'])
    path = tmp_path / 'mmpretrain.pth'
    torch.save(dict(state_dict=state, meta=dict(mmpretrain_version='1.2.0')),
               path)
    backbone = EdgeNeXt(arch, out_indices=(3, ), gap_before_final_norm=True,
                        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    backbone.init_weights()
    with torch.no_grad():
        (features, ) = backbone.eval().double()(images.double())
    assert_matches(features, fixture['features'])


@pytest.mark.parametrize('arch', by_size(*zip(OFFICIAL_VARIANTS)))
def test_functional_reference_gives_the_authors_logits(arch):
    """tests/reference_edgenext.py, an extra check some tests use, computes
    what the authors' model does."""
    logits = reference_forward(official_weights(arch), official_input(arch),
                               arch)
    assert_matches(logits, official_fixture(arch)['logits'])

"""Every config in configs/ builds (and one of each model structure trains
a step and predicts), and its parameters and MAdds, as tools/get_flops.py
counts them at the config's Input Size, are exactly what its metafile
lists. The listed numbers are the published ones where exact counts were
published, and the sizes README and docs quote are the listed numbers as
printed."""
import glob
import os
import re

import pytest
import torch
from helpers import ROOT, cls_batch, det_batch, listed_sizes, seg_batch

CONFIGS = sorted(
    os.path.relpath(p, ROOT) for pattern in ('*.py', 'examples/*.py')
    for p in glob.glob(os.path.join(ROOT, 'configs', pattern)))
# The smallest config of each model structure takes a training step and
# predicts; the others differ from one of these only in widths, classes or
# data, which building and counting them at full size exercise.
ONE_PER_STRUCTURE = {
    'ssdlite_edgenext_xx_small_coco.py',
    'ssdlite_edgenext_xx_small_synthetic.py',
    'ssdlite_edgenext_small_coco_cvnets.py', 'ssdlite_edgeformer_s_coco.py',
    'deeplabv3_edgenext_xx_small_voc12aug.py',
    'deeplabv3_edgenext_small_voc12aug_auxhead.py',
    'deeplabv3_edgenext_small_voc12aug_cvnets.py',
    'deeplabv3_edgeformer_s_voc12aug.py', 'edgenext_xx_small_in1k.py',
    'edgeformer_s_in1k.py', *(os.path.basename(c) for c in CONFIGS
                              if c.startswith('configs/examples/')),
}
DOCS = ('README.md', 'docs/detection.md', 'docs/segmentation.md',
        'docs/edgeformer.md')
# Exact parameter counts of the authors' models, counted on their code:
# EdgeNeXt-XXS (github.com/mmaaz60/EdgeNeXt), EdgeFormer-S and its SSDLite
# and DeepLabv3 (github.com/hkzhang-git/ParC-Net at f6780d0), and ml-cvnets
# v0.1's SSDLite and DeepLabv3 heads built by that code around EdgeNeXt-S.
PUBLISHED_PARAMS = {
    'configs/edgenext_xx_small_in1k.py': 1_327_216,
    'configs/edgeformer_s_in1k.py': 5_037_088,
    'configs/ssdlite_edgeformer_s_coco.py': 5_197_282,
    'configs/deeplabv3_edgeformer_s_voc12aug.py': 5_816_397,
    'configs/ssdlite_edgenext_small_coco_cvnets.py': 6_278_722,
    'configs/deeplabv3_edgenext_small_voc12aug_cvnets.py': 7_874_877,
}
# The EdgeNeXt paper's Table 1 and the authors' README (fvcore at 256),
# as printed there.
PUBLISHED_IMAGENET = {
    'xx_small': ('1.33M', '260.58M'), 'x_small': ('2.34M', '538.0M'),
    'small': ('5.59M', '1260.59M'), 'base': ('18.51M', '3840.93M'),
    'xx_small_bn_hs': ('1.33M', '259.53M'),
    'x_small_bn_hs': ('2.34M', '535.84M'),
    'small_bn_hs': ('5.58M', '1257.28M'),
}


SIZES = listed_sizes()


def test_every_config_is_listed():
    assert sorted(SIZES) == CONFIGS
    assert ONE_PER_STRUCTURE <= {os.path.basename(c) for c in CONFIGS}


def as_printed(value, quoted):
    """``value`` written as ``quoted`` is: with thousands separators, or in
    millions/billions with as many decimals."""
    if re.fullmatch(r'[\d,]+', quoted):
        return f'{value:,}'
    number, unit = quoted[:-1], quoted[-1]
    decimals = len(number.partition('.')[2])
    return f'{value / {"M": 1e6, "G": 1e9}[unit]:.{decimals}f}{unit}'


def test_listed_sizes_are_the_published_ones():
    for config, params in PUBLISHED_PARAMS.items():
        assert SIZES[config][0] == params, config
    for arch, (params, madds) in PUBLISHED_IMAGENET.items():
        listed_params, listed_madds, size = SIZES[
            f'configs/edgenext_{arch}_in1k.py']
        assert size == 256
        assert as_printed(listed_params, params) == params, arch
        assert as_printed(listed_madds, madds) == madds, arch
    for config, params in (('edgeformer_s_in1k', '5.0M'),
                           ('ssdlite_edgeformer_s_coco', '5.2M'),
                           ('deeplabv3_edgeformer_s_voc12aug', '5.8M')):
        assert as_printed(SIZES[f'configs/{config}.py'][0], params) == params


def _table_rows(text):
    """Each markdown table row as ``(header cells, row cells)``."""
    header = None
    for line in text.splitlines():
        if not line.startswith('|'):
            header = None
            continue
        cells = [c.strip().strip('`') for c in line.strip('|').split('|')]
        if header is None:
            header = cells
        elif not set(line) <= set('|-: '):
            yield header, cells


def _expand(name):
    """``a_{x,y}_b`` as ``[a_x_b, a_y_b]``, config paths as listed."""
    match = re.search(r'\{([^}]*)\}', name)
    names = ([name] if match is None else [
        name[:match.start()] + alt + name[match.end():]
        for alt in match.group(1).split(',')])
    return [os.path.join('configs', os.path.basename(n).removesuffix('.py')
                         + '.py') for n in names]


# README's detection/segmentation table quotes EdgeNeXt-S of each family.
_README_FAMILIES = {
    'ssdlite_edgenext_*_coco.py': 'ssdlite_edgenext_small_coco',
    'ssdlite_edgenext_small_coco_cvnets.py':
        'ssdlite_edgenext_small_coco_cvnets',
    'deeplabv3_edgenext_*_voc12aug.py': 'deeplabv3_edgenext_small_voc12aug',
    'deeplabv3_edgenext_small_voc12aug_cvnets.py':
        'deeplabv3_edgenext_small_voc12aug_cvnets',
}
_FIGURE = r'[\d.]+[MG]|\d{1,3}(?:,\d{3})+'


def quoted_sizes(doc):
    """``(config, 'params'|'madds', quoted figure)`` for each size ``doc``
    quotes: table columns named params / MAdds, cells and sentences
    naming a config, the get_flops comment of README's quick start."""
    text = open(os.path.join(ROOT, doc)).read()
    for header, cells in _table_rows(text):
        row = dict(zip(header, cells))
        if 'config' in row and 'params' in row:
            configs = _expand(row['config'])
            for kind, column in (('params', 'params'), ('madds', 'MAdds')):
                figures = [f for f in row[column].split(' / ') if f]
                if figures:
                    assert len(figures) == len(configs), row
                    for config, figure in zip(configs, figures):
                        yield config, kind, figure
        if 'params / MAdds (measured)' in row:
            params, madds = re.fullmatch(
                rf'({_FIGURE}) / ({_FIGURE}) at \d+',
                row['params / MAdds (measured)']).groups()
            yield _expand(row['config'])[0], 'params', params
            yield _expand(row['config'])[0], 'madds', madds
        here = row.get('EdgeNeXt-S here')
        if here:
            config = _README_FAMILIES[row['config family'].split('`')[0]]
            params, madds = here.split(', ')
            yield f'configs/{config}.py', 'params', params
            yield f'configs/{config}.py', 'madds', madds
    for config, params, exact, madds in re.findall(
            rf'`(\w+)\.py`: ({_FIGURE})(?: \(({_FIGURE})\))?, ({_FIGURE})',
            text):
        yield f'configs/{config}.py', 'params', params
        if exact:
            yield f'configs/{config}.py', 'params', exact
        yield f'configs/{config}.py', 'madds', madds
    for config, params, madds in re.findall(
            rf'(?:get_flops\.py )?`?configs/([\w-]+)\.py`?[^`|\n]*?'
            rf'(?:#|is)\s+({_FIGURE})(?:M)? params,? ({_FIGURE}) MAdds',
            text):
        yield f'configs/{config}.py', 'params', params
        yield f'configs/{config}.py', 'madds', madds


@pytest.mark.parametrize('doc', DOCS)
def test_quoted_sizes_are_the_listed_ones_as_printed(doc):
    quoted = list(quoted_sizes(doc))
    assert len(quoted) >= 10, quoted  # the tables were found
    for config, kind, figure in quoted:
        value = SIZES[config][kind == 'madds']
        assert as_printed(value, figure) == figure, (config, kind)


def test_the_quotes_cover_the_published_comparisons():
    """README and docs quote the sizes set against the papers' figures."""
    readme = {(c, f) for c, _, f in quoted_sizes('README.md')}
    for config, figures in (
            ('ssdlite_edgenext_small_coco', ('6.55M', '2.04G')),
            ('ssdlite_edgenext_small_coco_cvnets', ('6.28M', '2.14G')),
            ('deeplabv3_edgenext_small_voc12aug', ('10.50M', '12.50G')),
            ('deeplabv3_edgenext_small_voc12aug_cvnets', ('7.87M', '9.82G')),
            ('edgeformer_s_in1k', ('5.04M', '1.69G'))):
        for figure in figures:
            assert (f'configs/{config}.py', figure) in readme


def _one_step_and_predict(cfg, model):
    """A loss forward and a prediction on a tiny seeded batch, as the
    config's library runs them."""
    scope = cfg.default_scope
    model.train()
    if scope == 'mmdet':
        masks = getattr(model, 'roi_head', None) is not None and \
            model.roi_head.with_mask
        batch = det_batch(64, masks=masks)
    elif scope == 'mmseg':
        model.data_preprocessor.size = (64, 64)
        batch = seg_batch(cfg.model.decode_head.num_classes)
    else:
        batch = cls_batch(cfg.model.head.num_classes)
    data = model.data_preprocessor(batch, training=scope != 'mmpretrain')
    losses = model(**data, mode='loss')
    total = sum(sum(v) if isinstance(v, (list, tuple)) else v
                for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total), losses
    model.eval()
    with torch.no_grad():
        preds = model.test_step(batch)
    assert len(preds) == 2
    if scope == 'mmdet':
        assert preds[0].pred_instances.bboxes.shape[1] == 4
    elif scope == 'mmseg':
        assert preds[0].pred_sem_seg.data.shape == (1, 64, 64)
    else:
        assert preds[0].pred_score.shape == (cfg.model.head.num_classes, )


@pytest.mark.parametrize('config', CONFIGS, ids=os.path.basename)
@pytest.mark.slow
def test_config_builds_has_its_listed_size_and_runs(config):
    from mmedgenext.analysis import count_complexity
    from mmedgenext.apis import build_model, input_shape, load_config
    params, madds, size = SIZES[config]
    cfg = load_config(os.path.join(ROOT, config))
    assert input_shape(cfg) == (size, size)  # what get_flops counts at
    torch.manual_seed(0)
    model = build_model(cfg)
    result = count_complexity(model, (3, size, size))
    assert (result['params'], result['madds']) == (params, madds)
    if os.path.basename(config) in ONE_PER_STRUCTURE:
        _one_step_and_predict(cfg, model)

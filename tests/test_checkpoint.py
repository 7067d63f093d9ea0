"""Weights: formats, the load report, errors, the model zoo, safety."""
import io
import logging
import os
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, RunsCode, official_weights, randomize_, save_official
from mmengine.logging import MMLogger

from mmedgenext.checkpoint import (MODEL_ZOO, UnsafeCheckpointError,
                                   convert_state_dict, load_pretrained,
                                   read_checkpoint)
from mmedgenext.models import EdgeNeXt


def assert_loaded(model, sd):
    """Every backbone tensor of an official state dict is in the model."""
    own = model.state_dict()
    for k, v in sd.items():
        if k.startswith('head.'):
            continue
        torch.testing.assert_close(own['norm3.' + k[5:]] if k.startswith(
            'norm.') else own[k], v, rtol=0, atol=0)


@pytest.mark.slow
def test_zoo_lists_the_ten_official_files():
    edgenext = {k: v for k, v in MODEL_ZOO.items()
                if k.startswith('edgenext')}
    assert len(edgenext) == 10
    for name, entry in edgenext.items():
        assert entry['url'].startswith(
            'https://github.com/mmaaz60/EdgeNeXt/releases/download/v1.')
        EdgeNeXt(entry['arch'])  # every entry names a real arch


def test_zoo_lists_the_three_edgeformer_files():
    names = [k for k in MODEL_ZOO if k.startswith('edgeformer')]
    assert len(names) == 3
    urls = {MODEL_ZOO[k]['url'] for k in names}
    files = {MODEL_ZOO[k]['filename'] for k in names}
    assert len(urls) == len(files) == 3  # one name upstream, three here
    assert all(u.startswith('https://github.com/hkzhang-git/ParC-Net/raw/'
                            'main/pretrained_models/') for u in urls)


@pytest.mark.parametrize('container', ['model', 'model_ema', 'state_dict'])
def test_official_containers(container, tmp_path):
    sd = official_weights('xx_small')
    path = tmp_path / 'ckpt.pth'
    torch.save({container: sd, 'epoch': 3}, path)
    model = EdgeNeXt('xx_small')
    report = load_pretrained(model, str(path))
    assert report['format'] == 'official'
    assert_loaded(model, sd)
    # Out norms 0-2 are new for dense tasks; the classifier is not ours.
    assert sorted({k.split('.')[0] for k in report['missing']}) == [
        'norm0', 'norm1', 'norm2']
    assert report['ignored'] == ['head.weight', 'head.bias']


def test_ema_is_preferred_as_the_reference_evaluates_it(tmp_path):
    ema = official_weights('xx_small', seed=11)
    _, path = save_official(tmp_path, 'xx_small', model_ema=ema)
    model = EdgeNeXt('xx_small')
    load_pretrained(model, path)
    assert_loaded(model, ema)
    load_pretrained(model, path, checkpoint_key='model')
    assert_loaded(model, official_weights('xx_small'))
    with pytest.raises(KeyError, match='not in the checkpoint'):
        load_pretrained(model, path, checkpoint_key='ema')


def test_plugin_checkpoint_from_a_detector(tmp_path):
    src = randomize_(EdgeNeXt('xx_small'))
    sd = {f'backbone.{k}': v for k, v in src.state_dict().items()}
    sd['neck.conv.weight'] = torch.zeros(1)
    path = tmp_path / 'det.pth'
    torch.save(dict(state_dict=sd, meta=dict(epoch=1)), path)
    model = EdgeNeXt('xx_small')
    report = load_pretrained(model, str(path))
    assert report['format'] == 'mmedgenext' and not report['missing']
    assert report['ignored'] == ['neck.conv.weight']
    for k, v in src.state_dict().items():
        assert torch.equal(model.state_dict()[k], v)


def test_report_is_logged(tmp_path):
    sd = official_weights('xx_small')
    sd['stages.0.0.extra'] = torch.zeros(3)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(model=sd), path)
    logger = MMLogger.get_current_instance()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        load_pretrained(EdgeNeXt('xx_small'), str(path))
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert 'official format' in out
    assert 'missing in checkpoint, left as initialised: norm0.{bias,weight}' \
        in out
    assert 'unexpected in checkpoint, ignored: stages.0.0.extra' in out


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    _, path = save_official(tmp_path, 'xx_small')
    with pytest.raises(ValueError) as err:
        load_pretrained(EdgeNeXt('x_small'), path)
    msg = str(err.value)
    assert 'downsample_layers.0.0.weight: checkpoint (24, 3, 4, 4), model ' \
        '(32, 3, 4, 4)' in msg and "arch='x_small'" in msg


def test_missing_file_names_the_path(tmp_path):
    missing = str(tmp_path / 'nowhere.pth')
    model = EdgeNeXt('xx_small',
                     init_cfg=dict(type='Pretrained', checkpoint=missing))
    with pytest.raises(FileNotFoundError, match=missing):
        model.init_weights()


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / 'junk.pth'
    path.write_bytes(b'not a zip nor a pickle')
    with pytest.raises(ValueError, match='not a readable PyTorch checkpoint'):
        read_checkpoint(str(path))
    torch.save(dict(weights={'a': torch.zeros(1)}), path)
    with pytest.raises(ValueError, match='No weights found'):
        load_pretrained(EdgeNeXt('xx_small'), str(path))
    torch.save({'fc.weight': torch.zeros(1)}, path)
    with pytest.raises(ValueError, match='Unrecognised checkpoint'):
        load_pretrained(EdgeNeXt('xx_small'), str(path))


def test_zoo_name_downloads_once_into_the_hub_cache(tmp_path, monkeypatch):
    _, path = save_official(tmp_path, 'xx_small')
    monkeypatch.setitem(MODEL_ZOO['edgenext_xx_small'], 'url',
                        f'file://{path}')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    model = EdgeNeXt('xx_small', init_cfg=dict(
        type='Pretrained', checkpoint='edgenext_xx_small'))
    model.init_weights()
    cached = tmp_path / 'torch_home/hub/checkpoints/edgenext_xx_small.pth'
    assert cached.is_file()
    assert_loaded(model, official_weights('xx_small'))


def test_unreachable_url_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.raises(RuntimeError, match='Download it yourself'):
        load_pretrained(EdgeNeXt('xx_small'),
                        f'file://{tmp_path}/absent/edgenext.pth')


def test_malicious_checkpoint_is_refused(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'evil.pth'
    torch.save(dict(model=official_weights('xx_small'),
                    payload=RunsCode(marker)), path)
    with pytest.raises(UnsafeCheckpointError, match='os.makedirs'):
        load_pretrained(EdgeNeXt('xx_small'), str(path))
    assert not os.path.exists(marker)
    # Trusting the file explicitly loads it (and so runs its code).
    load_pretrained(EdgeNeXt('xx_small'), str(path), trust_checkpoint=True)
    assert os.path.exists(marker)


def test_mmengine_checkpoint_loads_without_trust(tmp_path):
    """Runner checkpoints hold logged scalars (HistoryBuffer, numpy)."""
    import numpy as np
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_ckpt')
    hub.update_scalar('train/loss', np.float64(0.5))
    model = randomize_(EdgeNeXt('xx_small'))
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in
                                model.state_dict().items()},
                    message_hub=hub.state_dict(),
                    meta=dict(seed=np.int64(0))), path)
    fresh = EdgeNeXt('xx_small')
    assert not load_pretrained(fresh, str(path))['missing']


@pytest.mark.slow
def test_convert_tool_writes_a_classifier_checkpoint(tmp_path):
    _, src = save_official(tmp_path, 'small_bn_hs')
    dst = tmp_path / 'converted.pth'
    subprocess.run([sys.executable, 'tools/convert_checkpoint.py', src,
                    str(dst)], check=True, cwd=ROOT)
    converted = torch.load(dst, weights_only=True)
    sd = converted['state_dict']
    assert 'backbone.norm3.weight' in sd and 'head.fc.weight' in sd
    assert converted['meta']['source_format'] == 'official'
    official, _, _ = convert_state_dict(official_weights('small_bn_hs'))
    assert torch.equal(sd['backbone.stages.2.8.xca.qkv.weight'],
                       official['stages.2.8.xca.qkv.weight'])
    model = EdgeNeXt('small_bn_hs')
    assert not [k for k in load_pretrained(model, str(dst))['missing']
                if not k.startswith(('norm0', 'norm1', 'norm2'))]


class _ReachesThroughGetattr:
    """getattr on an allowed class, aiming past its statistic methods."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_beyond_history_buffer_statistics_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(model=official_weights('xx_small'),
                    payload=_ReachesThroughGetattr()), path)
    with pytest.raises(UnsafeCheckpointError, match='getattr'):
        read_checkpoint(str(path))

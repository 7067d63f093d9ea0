"""Checkpoints read by mmengine's Runner (load_from, resume, tools/test.py):
the plugin converts what it recognises and leaves other files to mmengine.
(That official and timm files then give the authors' logits is in
test_equivalence.py.)"""
import collections
import fractions

import numpy as np
import pytest
import torch
from helpers import RunsCode, cfg_path, save_official
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, load_checkpoint
from mmengine.runner import checkpoint as mmengine_checkpoint

from mmedgenext.apis import build_model, load_config
from mmedgenext.checkpoint import (MODEL_ZOO, UnsafeCheckpointError,
                                   refuse_unsafe_checkpoints)


def classifier(arch, channels):
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    return MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='mmedgenext.EdgeNeXt', arch=arch,
                           out_indices=(3, ), gap_before_final_norm=True),
             head=dict(type='LinearClsHead', num_classes=1000,
                       in_channels=channels))).eval()


def test_runner_checkpoint_is_read_without_trust(tmp_path):
    hub = MessageHub.get_instance('runner_loading')
    hub.update_scalar('train/loss', np.float64(0.25))
    path = tmp_path / 'iter_10.pth'
    state = {'backbone.downsample_layers.0.0.weight': torch.zeros(1)}
    torch.save(dict(state_dict=state, message_hub=hub.state_dict(),
                    meta=dict(iter=10)), path)
    ckpt = CheckpointLoader.load_checkpoint(str(path))
    assert ckpt['state_dict'].keys() == state.keys()  # not converted
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.current() == 0.25


@pytest.mark.parametrize('payload', [
    collections.Counter(a=1, b=2),  # torch 2.1 reads it only unrestricted
    fractions.Fraction(1, 3),  # torch >= 2.6 refuses it by default
], ids=['Counter', 'Fraction'])
def test_other_files_load_as_mmengine_reads_them(payload, tmp_path):
    """A checkpoint the plugin does not recognise reaches the Runner as
    mmengine's own loader gives it on this torch, or fails as it does."""
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=dict(w=torch.arange(3.)), extra=payload),
               path)

    def outcome(loader):
        try:
            return loader(path, None)
        except Exception as e:  # noqa: B902  (compared by type)
            return type(e)

    expected = outcome(mmengine_checkpoint.load_from_local)
    got = outcome(lambda *a: CheckpointLoader.load_checkpoint(*a))
    if isinstance(expected, type):
        assert got is expected
    else:
        assert got.keys() == expected.keys() and got['extra'] == payload
        assert torch.equal(got['state_dict']['w'], torch.arange(3.))


def test_plugin_entry_points_refuse_code(tmp_path, monkeypatch):
    """The plugin's tools and APIs, and model-zoo names, never hand a file
    that would run code to an unrestricted reader."""
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=RunsCode(str(marker))), path)
    with pytest.raises(UnsafeCheckpointError), refuse_unsafe_checkpoints():
        load_checkpoint(classifier('xx_small', 168), str(path))
    cfg = load_config(cfg_path('edgenext_xx_small_in1k.py'))
    with pytest.raises(UnsafeCheckpointError):
        build_model(cfg, str(path))
    monkeypatch.setitem(MODEL_ZOO['edgenext_xx_small'], 'url',
                        f'file://{path}')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(classifier('xx_small', 168), 'edgenext_xx_small')
    assert not marker.exists()


def test_load_from_a_model_zoo_name(tmp_path, monkeypatch):
    sd, path = save_official(tmp_path, 'xx_small')
    monkeypatch.setitem(MODEL_ZOO['edgenext_xx_small'], 'url',
                        f'file://{path}')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    model = classifier('xx_small', 168)
    load_checkpoint(model, 'edgenext_xx_small', strict=True)
    assert torch.equal(model.head.fc.weight, sd['head.weight'])

"""Checkpoints read by mmengine's Runner (load_from, resume, tools/test.py)
go through the plugin's safe reader and conversion. (That official and timm
files then give the authors' logits is in test_equivalence.py.)"""
import numpy as np
import pytest
import torch
from helpers import RunsCode, save_official
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmedgenext.checkpoint import MODEL_ZOO, UnsafeCheckpointError


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


def test_runner_refuses_code_in_checkpoints(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=RunsCode(str(tmp_path / 'x'))),
               path)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(classifier('xx_small', 168), str(path))


def test_load_from_a_model_zoo_name(tmp_path, monkeypatch):
    sd, path = save_official(tmp_path, 'xx_small')
    monkeypatch.setitem(MODEL_ZOO['edgenext_xx_small'], 'url',
                        f'file://{path}')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    model = classifier('xx_small', 168)
    load_checkpoint(model, 'edgenext_xx_small', strict=True)
    assert torch.equal(model.head.fc.weight, sd['head.weight'])

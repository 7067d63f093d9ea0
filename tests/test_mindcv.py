"""MindCV's EdgeNeXt checkpoints (MindSpore ``.ckpt``) through every entry
point, against MindCV's own outputs: tests/fixtures/mindcv_edgenext.* were
made by MindCV 0.3.0 under MindSpore 2.10 (make_mindcv_edgenext.py). The
files are rebuilt from the fixture's record and seeded values and checked
byte for byte against MindSpore's (SHA-256), so no MindSpore is needed."""
import functools
import hashlib
import json
import math
import os
import pickle
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, cfg_path
from mmengine.runner import load_checkpoint
from PIL import Image

from mmedgenext.apis import build_model, load_config
from mmedgenext.checkpoint import MODEL_ZOO, load_pretrained, read_checkpoint
from mmedgenext.checkpoint.mindcv import MINDCV_ARCHS, mindcv_layout
from mmedgenext.checkpoint.mindspore_ckpt import Checkpoint
from mmedgenext.models import EdgeNeXt

sys.path.insert(0, os.path.join(ROOT, 'tests', 'fixtures'))
from seeded_weights import seeded_tensor  # noqa: E402

FIXTURES = os.path.join(ROOT, 'tests', 'fixtures')
with open(os.path.join(FIXTURES, 'mindcv_edgenext.json')) as f:
    RECORD = json.load(f)
OUTPUTS = np.load(os.path.join(FIXTURES, 'mindcv_edgenext.npz'))
X = torch.from_numpy(OUTPUTS['input'])


def serialize(values):
    """A MindSpore checkpoint of ``[(tag, dims, dtype, content)]``, one
    message per value as MindSpore writes them."""
    chunks = []
    for tag, dims, dtype, content in values:
        message = Checkpoint()
        value = message.value.add(tag=tag)
        value.tensor.dims.extend(dims)
        value.tensor.tensor_type = dtype
        value.tensor.tensor_content = content
        chunks.append(message.SerializeToString())
    return b''.join(chunks)


@functools.lru_cache(maxsize=None)
def seeded_values(stem):
    """The values of fixture file ``stem``, with their seeded contents."""
    values = []
    for tag, dims, dtype, nbytes in RECORD['files'][stem]['values']:
        content = seeded_tensor(tag, dims, dtype.lower(),
                                RECORD['seed']).numpy().tobytes()
        assert len(content) == nbytes, tag
        values.append((tag, dims, dtype, content))
    return tuple(values)


@pytest.fixture(scope='module')
def mindcv_file(tmp_path_factory):
    """``stem -> path`` of the rebuilt file, the very bytes MindSpore
    wrote (each file built once per module)."""
    paths = {}

    def build(stem):
        if stem not in paths:
            record = RECORD['files'][stem]
            data = serialize(seeded_values(stem))
            if record['crc']:
                data += b'crc_num' + bytes.fromhex(record['crc'])
            assert hashlib.sha256(data).hexdigest() == record['sha256']
            paths[stem] = str(tmp_path_factory.mktemp('mindcv') /
                              f'{stem}.ckpt')
            with open(paths[stem], 'wb') as f:
                f.write(data)
        return paths[stem]

    return build


def assert_close_to_range(out, key):
    """Within 1e-4 of the range of MindCV's logits ``key``."""
    ref = torch.from_numpy(OUTPUTS[key])
    assert out.shape == ref.shape
    tol = 1e-4 * float(ref.max() - ref.min())
    assert float((out - ref).abs().max()) <= tol, key


@functools.lru_cache(maxsize=None)
def in1k_config(arch):
    return load_config(cfg_path(f'edgenext_{arch}_in1k.py'))


def classifier(arch, checkpoint=None):
    """The arch's ImageNet config (mmpretrain ImageClassifier), with
    ``checkpoint`` loaded strictly by mmengine's load_checkpoint."""
    return build_model(in1k_config(arch), checkpoint)


def logits_of_backbone(backbone):
    """The pooled, normalised features through MindCV's own classifier,
    taken from the seeded values, not from the file."""
    c = backbone.channels[-1]
    weight = seeded_tensor('head.weight', (1000, c))
    bias = seeded_tensor('head.bias', (1000, ))
    with torch.no_grad():
        return backbone.eval()(X)[0] @ weight.T + bias


@pytest.mark.parametrize('arch', ['xx_small', 'x_small'])
def test_layout_is_mindcvs_parameter_order(arch):
    """The names, order and shapes the plugin expects are those MindCV's
    network wrote (full names), and the short names end as they do."""
    layout = mindcv_layout(arch)
    full = RECORD['files'][f'edgenext_{arch}_full']['values']
    short = RECORD['files'][f'edgenext_{arch}_short']['values']
    assert [(n, list(s)) for n, s in layout] == [(t, d) for t, d, *_ in full]
    assert [(n.rsplit('.', 1)[1], list(s)) for n, s in layout] == [
        (t.rsplit('.', 1)[1], d) for t, d, *_ in short]


def test_layout_sizes_are_mindcvs_published_ones():
    """Parameters (M) in MindCV's EdgeNeXt README: 1.33, 2.34, 5.59,
    18.51 for the four archs, the two not in the fixtures included."""
    published = dict(xx_small=1.33, x_small=2.34, small=5.59, base=18.51)
    for arch in MINDCV_ARCHS:
        total = sum(math.prod(s) for _, s in mindcv_layout(arch))
        assert round(total / 1e6, 2) == published[arch], arch


@pytest.mark.parametrize('stem,prefix', [
    ('edgenext_xx_small_short', None), ('edgenext_xx_small_full', 'backbone.')
])
def test_backbone_init_cfg(stem, prefix, mindcv_file):
    """init_cfg=Pretrained, with and without prefix='backbone.', both
    naming forms: the backbone MindCV's classifier head turns into MindCV's
    logits."""
    model = EdgeNeXt('xx_small', out_indices=(3, ), gap_before_final_norm=True,
                     init_cfg=dict(type='Pretrained', prefix=prefix,
                                   checkpoint=mindcv_file(stem)))
    model.init_weights()
    assert_close_to_range(logits_of_backbone(model), stem)


@pytest.mark.slow
def test_load_from_a_path_and_a_zoo_name(mindcv_file, tmp_path, monkeypatch):
    """mmengine's load_checkpoint (load_from, build_model) fills the
    config's classifier strictly, from a path and from the zoo name."""
    path = mindcv_file('edgenext_xx_small_short')
    monkeypatch.setitem(MODEL_ZOO['mindcv_edgenext_xx_small'], 'url',
                        f'file://{path}')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    for checkpoint in (path, 'mindcv_edgenext_xx_small'):
        model = classifier('xx_small', checkpoint)
        with torch.no_grad():
            assert_close_to_range(model(X, mode='tensor'),
                                  'edgenext_xx_small_short')


def convert(src, dst, *options, capsys):
    """tools/convert_checkpoint.py SRC DST [options], in this process."""
    argv = sys.argv
    sys.argv = ['convert_checkpoint.py', src, str(dst), *options]
    try:
        runpy.run_path(os.path.join(ROOT, 'tools', 'convert_checkpoint.py'),
                       run_name='__main__')
    finally:
        sys.argv = argv
    return capsys.readouterr().out


@pytest.mark.slow
def test_convert_tool(mindcv_file, tmp_path, capsys):
    """SRC.ckpt DST.pth: a classifier checkpoint that loads strictly into
    the config's model (--config) and gives MindCV's logits."""
    dst = tmp_path / 'mm.pth'
    out = convert(mindcv_file('edgenext_xx_small_full'), dst, '--config',
                  cfg_path('edgenext_xx_small_in1k.py'), capsys=capsys)
    assert '(mindcv format)' in out and 'loads strictly' in out
    model = classifier('xx_small')
    model.load_state_dict(torch.load(dst)['state_dict'], strict=True)
    with torch.no_grad():
        assert_close_to_range(model(X, mode='tensor'),
                              'edgenext_xx_small_full')


@pytest.mark.slow
def test_x_small_in_both_forms(mindcv_file):
    for stem in ('edgenext_x_small_short', 'edgenext_x_small_full'):
        model = classifier('x_small', mindcv_file(stem))
        with torch.no_grad():
            assert_close_to_range(model(X, mode='tensor'), stem)


@pytest.mark.slow
def test_training_file_gives_the_ema_weights(mindcv_file, tmp_path, capsys):
    """MindCV's TrainStep file: the EMA weights by default (MindCV's
    validation with ema=True), the raw ones with --checkpoint-key model;
    the optimizer state is left out."""
    path = mindcv_file('edgenext_xx_small_train')
    with torch.no_grad():
        assert_close_to_range(
            classifier('xx_small', path)(X, mode='tensor'),
            'edgenext_xx_small_train_ema')
    convert(path, tmp_path / 'raw.pth', '--checkpoint-key', 'model',
            capsys=capsys)
    model = classifier('xx_small', str(tmp_path / 'raw.pth'))
    with torch.no_grad():
        assert_close_to_range(model(X, mode='tensor'),
                              'edgenext_xx_small_train_raw')


@pytest.mark.slow
def test_tools_test_py(mindcv_file, tmp_path):
    """tools/test.py CONFIG FILE.ckpt: the config's classifier scores the
    fixture's images as MindCV does, and mmengine's log names the loader."""
    for i, image in enumerate(OUTPUTS['images']):
        Image.fromarray(image).save(tmp_path / f'{i}.png')
    config = tmp_path / 'cfg.py'
    config.write_text(f"""_base_ = [{cfg_path('edgenext_xx_small_in1k.py')!r}]
test_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='CustomDataset', with_label=False,
                 data_root={str(tmp_path)!r}, data_prefix='',
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
test_evaluator = dict(_delete_=True, type='DumpResults',
                      out_file_path={str(tmp_path / 'out.pkl')!r})
""")
    run = subprocess.run([
        sys.executable, 'tools/test.py', str(config),
        mindcv_file('edgenext_xx_small_short'), '--work-dir',
        str(tmp_path / 'work')], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'Loads checkpoint by mmedgenext backend' in run.stdout + run.stderr
    with open(tmp_path / 'out.pkl', 'rb') as f:
        results = pickle.load(f)  # written by this test's run
    order = [int(os.path.basename(r['img_path'])[0]) for r in results]
    scores = torch.stack([r['pred_score'] for r in results])
    ref = torch.from_numpy(OUTPUTS['edgenext_xx_small_short'])[order]
    torch.testing.assert_close(scores, ref.softmax(-1), atol=1e-6, rtol=0)


def test_crc_is_checked(mindcv_file, tmp_path):
    """A file saved with crc_check=True reads as the same file without; one
    changed byte in a tensor is caught by MindSpore's CRC."""
    path = mindcv_file('edgenext_xx_small_crc')
    with_crc = read_checkpoint(path)
    without = read_checkpoint(mindcv_file('edgenext_xx_small_short'))
    assert with_crc.keys() == without.keys()
    assert all(torch.equal(with_crc[k], without[k]) for k in without)
    data = bytearray(open(path, 'rb').read())
    data[len(data) // 2] ^= 1
    (tmp_path / 'flipped.ckpt').write_bytes(bytes(data))
    with pytest.raises(ValueError, match='CRC32 .* damaged'):
        read_checkpoint(str(tmp_path / 'flipped.ckpt'))


@pytest.fixture(scope='module')
def targets():
    """A backbone and a classifier that refused files must leave as they
    are."""
    return EdgeNeXt('xx_small'), classifier('xx_small')


def assert_refused_by_every_entry_point(path, match, targets, tmp_path,
                                        capsys):
    """One-line error from each entry point, and nothing loaded."""
    backbone, model = targets
    before = [{k: v.clone() for k, v in m.state_dict().items()}
              for m in (backbone, model)]
    for load in (lambda: load_pretrained(backbone, path),
                 lambda: load_pretrained(backbone, path, prefix='backbone.'),
                 lambda: load_checkpoint(model, path)):
        with pytest.raises(ValueError, match=match) as err:
            load()
        assert '\n' not in str(err.value)
    for m, state in zip((backbone, model), before):
        for k, v in m.state_dict().items():
            assert torch.equal(v, state[k]), k
    with pytest.raises(SystemExit) as err:
        convert(path, tmp_path / 'out.pth', capsys=capsys)
    assert 'error: ' in str(err.value) and '\n' not in str(err.value)
    assert not (tmp_path / 'out.pth').exists()


@pytest.mark.slow
def test_another_networks_file_is_refused(mindcv_file, targets, tmp_path,
                                          capsys):
    assert_refused_by_every_entry_point(
        mindcv_file('resnet18_short'),
        "not of MindCV's EdgeNeXt .*starts with conv1.weight", targets,
        tmp_path, capsys)


@pytest.mark.parametrize('cut', ['in a tensor', 'between tensors'])
@pytest.mark.parametrize('form', ['short', 'full'])
def test_truncated_file_is_refused(form, cut, targets, tmp_path, capsys):
    values = seeded_values(f'edgenext_xx_small_{form}')
    data = serialize(values)
    if cut == 'in a tensor':
        data, match = data[:len(data) // 2], 'truncated'
    else:  # at a value's end: protobuf reads one value less
        data = serialize(values[:-1])
        match = ("159 parameters, MindCV's edgenext_xx_small has 160; it "
                 "ends at 'head.weight'" if form == 'short' else
                 r'1 of its tensors missing \(head.bias\)')
    path = tmp_path / 'cut.ckpt'
    path.write_bytes(data)
    assert_refused_by_every_entry_point(str(path), match, targets, tmp_path,
                                        capsys)


@pytest.mark.parametrize('damage', ['bytes', 'dtype', 'dims'])
def test_corrupt_tensor_is_refused(damage, targets, tmp_path, capsys):
    values = list(seeded_values('edgenext_xx_small_short'))
    i = next(i for i, v in enumerate(values) if v[0] == '0.3.1.xca.qkv.weight')
    tag, dims, dtype, content = values[i]
    values[i] = dict(
        bytes=(tag, dims, dtype, content[:-4]),
        dtype=(tag, dims, 'Float33', content),
        dims=(tag, [dims[1], dims[0]], dtype, content))[damage]
    match = dict(bytes=r"'0.3.1.xca.qkv.weight' \(Float32, shape \[504, "
                 r"168\]\) needs 338688 bytes, the file holds 338684",
                 dtype="'0.3.1.xca.qkv.weight' has dtype 'Float33'",
                 dims=r"'0.3.1.xca.qkv.weight' has shape \[168, 504\], "
                 r"MindCV's edgenext_xx_small stages.3.1.xca.qkv.weight is "
                 r"\[504, 168\]")[damage]
    path = tmp_path / 'corrupt.ckpt'
    path.write_bytes(serialize(values))
    assert_refused_by_every_entry_point(str(path), match, targets, tmp_path,
                                        capsys)


def test_short_names_out_of_mindcvs_order_are_refused(targets, tmp_path,
                                                      capsys):
    """Short names map by position: a file whose SDTA layer scales come
    in another order (same shapes) must not load them swapped."""
    values = list(seeded_values('edgenext_xx_small_short'))
    i = next(i for i, v in enumerate(values) if v[0] == '0.3.1.gamma_xca')
    values[i], values[i + 1] = values[i + 1], values[i]
    path = tmp_path / 'reordered.ckpt'
    path.write_bytes(serialize(values))
    assert_refused_by_every_entry_point(
        str(path), r"parameter \d+ is '0.3.1.gamma', MindCV's "
        'edgenext_xx_small has stages.3.1.gamma_xca there', targets,
        tmp_path, capsys)


def test_zoo_names_mindcvs_released_files():
    """The URLs and top-1 of MindCV's EdgeNeXt README (Ascend 910 files as
    at its v0.3.0 tag, and the 910v2 file of its current README)."""
    mindcv = {k: v for k, v in MODEL_ZOO.items() if k.startswith('mindcv_')}
    assert {k: (v['url'].rsplit('/', 1)[1], v['top1'])
            for k, v in mindcv.items()} == {
        'mindcv_edgenext_xx_small': ('edgenext_xx_small-afc971fb.ckpt',
                                     71.02),
        'mindcv_edgenext_x_small': ('edgenext_x_small-a200c6fc.ckpt', 75.14),
        'mindcv_edgenext_small': ('edgenext_small-f530c372.ckpt', 79.15),
        'mindcv_edgenext_base': ('edgenext_base-4335e9dc.ckpt', 82.24),
        'mindcv_edgenext_xx_small_910v2': (
            'edgenext_xx_small-cad13d2c-910v2.ckpt', 70.64)}
    for entry in mindcv.values():
        assert entry['arch'] in MINDCV_ARCHS
        assert (entry['resize'], entry['crop']) == (292, 256)

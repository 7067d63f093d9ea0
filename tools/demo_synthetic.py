"""The README's main job on the embedded default data: write the synthetic
detection set if it is absent, train SSDLite-EdgeNeXt-XXS on it from
scratch, evaluate it (COCO bbox mAP on the validation split) and draw its
detections on a few validation images. Each step is the user-facing tool,
so this is also what a user's own run looks like.

    python tools/demo_synthetic.py [--work-dir DIR] [--out-dir DIR]

``--epochs``, ``--data-root`` and ``--score-thr`` make a quick trial run
(the tests run it for one epoch on a few images).
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmedgenext.synthetic_data import ensure_synthetic_set

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/ssdlite_edgenext_xx_small_synthetic.py'
DATA_ROOT = 'data/synthetic'


def run_tool(*args):
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--work-dir', default='work_dirs/ssdlite_edgenext_xx_small_synthetic')
    parser.add_argument('--out-dir', default='outputs/demo',
                        help='where the drawn detections go')
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--data-root', default=DATA_ROOT,
                        help='where the synthetic sets are (or go)')
    parser.add_argument('--epochs', type=int,
                        help='train this many epochs (default: the '
                        "config's 16)")
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='lowest score drawn')
    args = parser.parse_args()
    start = time.time()

    print('== 1/4 synthetic detection set', flush=True)
    det_root = osp.join(ROOT, args.data_root, 'det')
    if ensure_synthetic_set(osp.join(ROOT, args.data_root), 'det'):
        print(f'written to {det_root}')
    else:
        print(f'{det_root} already there')
    data = [f'{loader}.dataset.data_root={det_root}/'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]
    data += [f'{evaluator}.ann_file={det_root}/annotations/'
             'instances_val.json'
             for evaluator in ('val_evaluator', 'test_evaluator')]
    schedule = [] if args.epochs is None else [  # evaluated in step 3
        f'train_cfg.max_epochs={args.epochs}',
        f'train_cfg.val_interval={args.epochs + 1}']

    print(f'== 2/4 training {CONFIG}', flush=True)
    run_tool('tools/train.py', CONFIG, '--work-dir', args.work_dir,
             '--cfg-options', *data, *schedule)
    with open(osp.join(ROOT, args.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()

    print('== 3/4 evaluating on the validation split', flush=True)
    test_dir = osp.join(args.work_dir, 'test')
    run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir', test_dir,
             '--cfg-options', *data)
    logs = sorted(glob.glob(osp.join(ROOT, test_dir, '*', '*.json')),
                  key=os.path.getmtime)
    with open(logs[-1]) as f:
        metrics = json.load(f)

    print('== 4/4 drawing detections', flush=True)
    images = sorted(glob.glob(osp.join(det_root, 'val', '*.jpg')))
    drawn = []
    for image in images[:args.num_images]:
        out = osp.join(args.out_dir, osp.basename(image)[:-4] + '.png')
        run_tool('tools/demo.py', image, CONFIG, checkpoint, '--out', out,
                 '--score-thr', str(args.score_thr))
        drawn.append(out)

    print(f'\nCOCO bbox mAP on the synthetic validation split: '
          f'{metrics["coco/bbox_mAP"]:.3f} (mAP@0.5 '
          f'{metrics["coco/bbox_mAP_50"]:.3f}), checkpoint {checkpoint}, '
          f'results {logs[-1]}')
    print(f'detections drawn: {", ".join(drawn)}')
    print(f'total time {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()

"""The README's main job on the embedded default data: write the synthetic
detection set if it is absent, train SSDLite-EdgeNeXt-XXS on it from
scratch, evaluate it (COCO bbox mAP on the validation split) and draw its
detections on a few validation images. Each step is the user-facing tool,
so this is also what a user's own run looks like.

    python tools/demo_synthetic.py [--work-dir DIR] [--out-dir DIR]
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
    args = parser.parse_args()
    start = time.time()

    print('== 1/4 synthetic detection set', flush=True)
    if ensure_synthetic_set(osp.join(ROOT, DATA_ROOT), 'det'):
        print(f'written to {DATA_ROOT}/det')
    else:
        print(f'{DATA_ROOT}/det already there')

    print(f'== 2/4 training {CONFIG}', flush=True)
    run_tool('tools/train.py', CONFIG, '--work-dir', args.work_dir)
    with open(osp.join(ROOT, args.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()

    print('== 3/4 evaluating on the validation split', flush=True)
    test_dir = osp.join(args.work_dir, 'test')
    run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir', test_dir)
    logs = sorted(glob.glob(osp.join(ROOT, test_dir, '*', '*.json')),
                  key=os.path.getmtime)
    with open(logs[-1]) as f:
        metrics = json.load(f)

    print('== 4/4 drawing detections', flush=True)
    images = sorted(
        glob.glob(osp.join(ROOT, DATA_ROOT, 'det', 'val', '*.jpg')))
    drawn = []
    for image in images[:args.num_images]:
        out = osp.join(args.out_dir, osp.basename(image)[:-4] + '.png')
        run_tool('tools/demo.py', image, CONFIG, checkpoint, '--out', out)
        drawn.append(out)

    print(f'\nCOCO bbox mAP on the synthetic validation split: '
          f'{metrics["coco/bbox_mAP"]:.3f} (mAP@0.5 '
          f'{metrics["coco/bbox_mAP_50"]:.3f}), checkpoint {checkpoint}')
    print(f'detections drawn: {", ".join(drawn)}')
    print(f'total time {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()

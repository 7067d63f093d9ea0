"""Write the embedded default data sets (deterministic synthetic shapes) that
the *_synthetic configs and the tests train on, if they are not there yet.

    python tools/make_synthetic_data.py     # all kinds, into data/synthetic
    python tools/make_synthetic_data.py --kinds seg --root /tmp/synthetic
"""
import argparse
import os.path as osp
import time

from mmedgenext.synthetic_data import WRITERS, ensure_synthetic_set


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default='data/synthetic')
    parser.add_argument('--kinds', nargs='+', default=list(WRITERS),
                        choices=list(WRITERS))
    parser.add_argument('--force', action='store_true',
                        help='rewrite sets that already exist')
    args = parser.parse_args()
    for kind in args.kinds:
        target = osp.join(args.root, kind)
        start = time.time()
        if ensure_synthetic_set(args.root, kind, args.force):
            print(f'{target}: written in {time.time() - start:.1f}s')
        else:
            print(f'{target}: already there')


if __name__ == '__main__':
    main()

"""Run a trained model on one image and save the drawn result: boxes, labels
and scores (detection), a coloured class overlay (segmentation) or the top
class (classification). The library is the config's default_scope.

    python tools/demo.py demo.jpg CONFIG CHECKPOINT --out result.png
"""
import argparse
import sys

import mmcv

from mmedgenext.apis import load_config


def draw(model, visualizers, image, result, out, **kwargs):
    """Draw ``result`` on ``image`` with the config's visualizer."""
    visualizer = visualizers.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('result', mmcv.bgr2rgb(image),
                              data_sample=result, draw_gt=False,
                              out_file=out, **kwargs)


def detect(cfg, checkpoint, image, args):
    from mmdet.apis import inference_detector, init_detector
    from mmdet.registry import VISUALIZERS
    model = init_detector(cfg, checkpoint, device=args.device)
    draw(model, VISUALIZERS, image, inference_detector(model, image),
         args.out, pred_score_thr=args.score_thr)


def segment(cfg, checkpoint, image, args):
    from mmseg.apis import inference_model, init_model
    from mmseg.registry import VISUALIZERS
    model = init_model(cfg, checkpoint, device=args.device)
    draw(model, VISUALIZERS, image, inference_model(model, image), args.out)


def classify(cfg, checkpoint, image, args):
    from mmpretrain.apis import ImageClassificationInferencer
    inferencer = ImageClassificationInferencer(
        cfg, pretrained=checkpoint, device=args.device)
    from mmpretrain.visualization import UniversalVisualizer
    result = inferencer(image, return_datasamples=True)[0]
    # The inferencer builds its visualizer only when it draws itself.
    visualizer = inferencer.visualizer or UniversalVisualizer()
    visualizer.visualize_cls(
        mmcv.bgr2rgb(image), result, classes=inferencer.classes,
        draw_gt=False, out_file=args.out)


TASKS = {'mmdet': detect, 'mmseg': segment, 'mmpretrain': classify}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('image')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='path, URL or model-zoo name')
    parser.add_argument('--out', default='result.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score drawn')
    args = parser.parse_args()
    try:
        cfg = load_config(args.config)  # also enters the library's scope
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    try:
        image = mmcv.imread(args.image)  # BGR, as the inference APIs take
    except Exception as e:  # mmcv raises several kinds for bad files
        sys.exit(f'error: cannot read image {args.image}: {e}')
    if image is None:
        sys.exit(f'error: cannot read image {args.image}')
    TASKS[cfg.default_scope](cfg, args.checkpoint, image, args)
    print(f'{args.out} written')


if __name__ == '__main__':
    main()

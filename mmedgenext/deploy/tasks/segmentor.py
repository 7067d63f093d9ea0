"""Semantic segmentors (mmseg), whole-image inference: the graph returns the
label map or the logits at its input size."""
import numpy as np
import torch.nn as nn
import torch.nn.functional as F

from .base import DeployTask, Normalize, OnnxMismatchError


class SegmentorGraph(nn.Module):
    """Decode-head logits resized to the input, or their argmax: at the
    input's size, whatever it is (an export with free height and width
    keeps it so)."""

    def __init__(self, model, cfg, output='labels'):
        super().__init__()
        if output not in ('labels', 'logits'):
            raise ValueError(f'segmentor output must be labels or logits, '
                             f'got {output!r}')
        self.normalize = Normalize(cfg.model.data_preprocessor)
        self.model = model
        self.output_names = [output]
        self.spatial_axes = {output: (1, 2) if output == 'labels' else
                             (2, 3)}

    def forward(self, img):
        logits = self.model.encode_decode(
            self.normalize(img), [dict(img_shape=img.shape[2:])])
        if self.output_names == ['labels']:
            return logits.argmax(1)
        return logits


class SegmentorDeploy(DeployTask):
    quality_metrics = ('mIoU', )
    free_size = True  # mmseg's whole-image inference

    def graph(self, model, size, output=None):
        return SegmentorGraph(model, self.cfg, output or 'labels').eval()

    def reference(self, model, img):
        from mmseg.structures import SegDataSample
        results = self._predict(model, img, SegDataSample)
        return dict(
            logits=np.stack([r.seg_logits.data.numpy() for r in results]),
            labels=np.stack([r.pred_sem_seg.data[0].numpy()
                             for r in results]))

    def compare(self, reference, outputs, size, atol=1e-4):
        """Logits within ``atol``; of a label map, labels may differ only
        where PyTorch's two best logits are within ``atol`` of each other.
        """
        if 'logits' in outputs:
            diff = float(np.abs(outputs['logits'] -
                                reference['logits']).max())
            if not diff <= atol:
                raise OnnxMismatchError(f'logits differ by up to {diff:.3g}'
                                        f' (tolerance {atol:g})')
            return f'max |logits diff| {diff:.3g}'
        logits = np.sort(reference['logits'], axis=1)
        tie = logits[:, -1] - logits[:, -2] <= atol
        differ = outputs['labels'] != reference['labels']
        if (differ & ~tie).any():
            raise OnnxMismatchError(
                f'{int((differ & ~tie).sum())} of {differ.size} pixels get '
                f'another label (tolerance {atol:g} on the logits)')
        ties = (f' (the rest at logit ties <= {atol:g})'
                if differ.any() else '')
        return (f'label maps equal at {differ.size - int(differ.sum())} of '
                f'{differ.size} pixels{ties}')

    def compare_int8(self, pairs):
        """Pixel agreement, and the mIoU of the int8 label maps taking the
        float ones as ground truth (mmseg's: over the classes either map
        has, a class only int8 predicts scoring 0)."""
        key = 'labels' if 'labels' in pairs[0][0] else 'logits'
        f = np.concatenate([a[key] for a, _ in pairs])
        q = np.concatenate([b[key] for _, b in pairs])
        if key == 'logits':
            f, q = f.argmax(1), q.argmax(1)
        ious = [((f == c) & (q == c)).sum() / ((f == c) | (q == c)).sum()
                for c in np.union1d(f, q)]
        return dict(images=len(f),
                    pixel_agreement=float((f == q).mean()),
                    miou_vs_float=float(np.mean(ious)))

    def add_prediction(self, outputs, data_sample, shape, size):
        """To the original image as mmseg's ``postprocess_result``: logits
        resized bilinearly (the decode head's ``align_corners``), then
        argmax; a label map by nearest neighbour."""
        from mmengine.structures import PixelData
        ori = tuple(data_sample.ori_shape)
        if 'logits' in outputs:
            align = self.cfg.model.decode_head.get('align_corners', False)
            labels = F.interpolate(outputs['logits'][None], ori,
                                   mode='bilinear',
                                   align_corners=align)[0].argmax(0)
        else:
            labels = F.interpolate(outputs['labels'][None, None].float(),
                                   ori, mode='nearest')[0, 0].long()
        data_sample.pred_sem_seg = PixelData(data=labels[None])

"""mmseg's ``EncoderDecoder`` that resizes the logits back to the original
image with ``nearest``, as ml-cvnets' segmentation evaluation does
(``--evaluation.segmentation.resize-input-images``: the network runs at
512x512, its logits are nearest-resized to the image, then argmax)."""
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder

from mmedgenext.registry import MODELS


@MODELS.register_module()
class NearestResizeEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose ``postprocess_result`` removes padding,
    undoes flips and then resizes to ``ori_shape`` with nearest instead of
    bilinear interpolation. Training and ``encode_decode`` are unchanged."""

    def postprocess_result(self, seg_logits, data_samples=None):
        if data_samples is None or seg_logits.shape[1] == 1:
            return super().postprocess_result(seg_logits, data_samples)
        height, width = seg_logits.shape[2:]
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            left, right, top, bottom = meta.get(
                'img_padding_size', meta.get('padding_size', [0] * 4))
            logits = seg_logits[i:i + 1, :, top:height - bottom,
                                left:width - right]
            if meta.get('flip'):
                logits = logits.flip(
                    dims=(3, ) if meta['flip_direction'] == 'horizontal'
                    else (2, ))
            logits = F.interpolate(logits, size=tuple(meta['ori_shape'][:2]),
                                   mode='nearest').squeeze(0)
            sample.set_data(dict(
                seg_logits=PixelData(data=logits),
                pred_sem_seg=PixelData(data=logits.argmax(0, keepdim=True))))
        return data_samples
